"""``switchgear-ctl backend ...`` against a running daemon: exact output, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from admin.bodies import lnd_backend, node_key

from ctl.conftest import Daemon
from switchgeard.ctl.main import build_parser

K1, K2 = node_key(1), node_key(2)


async def test_add_list_show_from_flags(daemon: Daemon, tmp_path: Path) -> None:
    lnd = await daemon.ctl(
        "backend", "add", "--key", K1, "--name", "alpha", "--lnd", "https://127.0.0.1:10009",
        "--macaroon", "/m/admin.macaroon", "--tls-cert", "/m/tls.cert", "--partition", "eu",
        "--partition", "default", "--weight", "3",
    )  # fmt: skip
    assert (lnd.code, lnd.out, lnd.err) == (0, f"added backend {K1}\n", "")
    cln = await daemon.ctl(
        "backend", "add", "--key", node_key(2, compressed=False), "--cln", "https://127.0.0.1:9736",
        "--ca", "/c/ca.pem", "--client-cert", "/c/client.pem", "--client-key", "/c/key.pem",
        "--disabled", "--domain", "cln.internal",
    )  # fmt: skip
    assert (cln.code, cln.out) == (0, f"added backend {K2}\n")
    listed = await daemon.ctl("backend", "list")
    assert listed.lines == [
        "KEY" + " " * 65 + "NAME   KIND  ENABLED  WEIGHT  PARTITIONS  URL",
        f"{K1}  alpha  lnd   yes      3       default,eu  https://127.0.0.1:10009",
        f"{K2}  -      cln   no       1       default     https://127.0.0.1:9736",
    ]
    shown = await daemon.ctl("backend", "show", K2)
    assert shown.lines == [
        f"key:         {K2}",
        "name:        -",
        "kind:        cln",
        "url:         https://127.0.0.1:9736",
        "domain:      cln.internal",
        "partitions:  default",
        "weight:      1",
        "enabled:     no",
        "ca:          /c/ca.pem",
        "client cert: /c/client.pem",
        "client key:  /c/key.pem",
    ]
    lnd_shown = await daemon.ctl("backend", "show", K1)
    assert lnd_shown.lines[-3:] == [
        "tls cert:     /m/tls.cert",
        "macaroon:     /m/admin.macaroon",
        "amp invoices: no",
    ]


async def test_relative_credential_paths_become_absolute(daemon: Daemon) -> None:
    ran = await daemon.ctl("backend", "add", "--key", K1, "--lnd", "https://h:1", "--macaroon", "m")
    assert ran.code == 0
    shown = await daemon.ctl("--json", "backend", "show", K1)
    path = json.loads(shown.out)["implementation"]["auth"]["macaroonPath"]
    assert path == str(Path.cwd() / "m")


async def test_add_from_file_and_stdin_update_enable_weight_remove(
    daemon: Daemon, tmp_path: Path
) -> None:
    file = tmp_path / "b.json"
    file.write_text(json.dumps(lnd_backend(1)), encoding="utf-8")
    assert (
        await daemon.ctl("backend", "add", "--from-file", str(file))
    ).out == f"added backend {K1}\n"
    piped = await daemon.ctl("backend", "add", "--from-file", "-", stdin=json.dumps(lnd_backend(2)))
    assert piped.out == f"added backend {K2}\n"
    file.write_text(json.dumps(lnd_backend(1, weight=9)), encoding="utf-8")
    updated = await daemon.ctl("backend", "update", K1, "--from-file", str(file))
    assert updated.out == f"updated backend {K1}\n"
    assert (await daemon.ctl("backend", "disable", K1)).out == f"disabled backend {K1}\n"
    assert (await daemon.ctl("backend", "enable", K2)).out == f"enabled backend {K2}\n"
    assert (await daemon.ctl("backend", "weight", K2, "7")).out == f"backend {K2} weight 7\n"
    listed = json.loads((await daemon.ctl("--json", "backend", "list")).out)
    assert [(b["weight"], b["enabled"]) for b in listed] == [(9, False), (7, True)]
    assert (await daemon.ctl("backend", "remove", K1)).out == f"removed backend {K1}\n"
    again = await daemon.ctl("backend", "remove", K1)
    assert (again.code, again.out) == (1, "")
    assert again.err == f"switchgear-ctl: remove backend {K1}: not found: no backend {K1}\n"


async def test_errors_are_one_line_and_exit_1(daemon: Daemon, tmp_path: Path) -> None:
    await daemon.ctl("backend", "add", "--key", K1, "--lnd", "https://h:1", "--macaroon", "/m")
    conflict = await daemon.ctl(
        "backend", "add", "--key", K1, "--lnd", "https://h:1", "--macaroon", "/m"
    )
    assert conflict.code == 1
    assert conflict.err.startswith("switchgear-ctl: add backend: conflict: ")
    bad = await daemon.ctl("backend", "show", "nothex")
    assert bad.code == 1
    assert bad.err == (
        "switchgear-ctl: backend nothex: invalid parameter: publicKey: "
        "must be 66 (compressed) or 130 (uncompressed) hex characters\n"
    )
    weight = await daemon.ctl(
        "backend",
        "add",
        "--key",
        K2,
        "--lnd",
        "https://h:1",
        "--macaroon",
        "/m",
        "--partition",
        "a b",
    )
    assert (weight.code, weight.err.count("\n")) == (1, 1)
    assert "partitions" in weight.err
    missing = await daemon.ctl("backend", "add", "--from-file", str(tmp_path / "nope.json"))
    assert missing.code == 1
    assert missing.err.startswith(f"switchgear-ctl: cannot read {tmp_path / 'nope.json'}: ")
    garbage = await daemon.ctl("backend", "add", "--from-file", "-", stdin="{")
    assert (garbage.code, garbage.err.startswith("switchgear-ctl: stdin is not valid JSON")) == (
        1,
        True,
    )


async def test_usage_errors_exit_2(daemon: Daemon) -> None:
    for argv in (
        ["backend"],
        ["backend", "frobnicate"],
        ["backend", "weight", K1, "-1"],
        ["backend", "add", "--lnd", "https://h:1"],
        ["backend", "add", "--key", K1, "--lnd", "https://h:1"],
        ["backend", "add", "--key", K1, "--lnd", "u", "--cln", "u"],
        ["backend", "add", "--key", K1, "--from-file", "-"],
        ["nothing"],
    ):
        ran = await daemon.ctl(*argv)
        assert ran.code == 2, argv
        assert ran.out == ""
        assert ran.err.count("\n") == 1, ran.err


async def test_json_prints_the_api_json(daemon: Daemon) -> None:
    added = await daemon.ctl(
        "--json", "backend", "add", "--key", K1, "--lnd", "https://h:1", "--macaroon", "/m"
    )
    assert json.loads(added.out)["publicKey"] == K1
    listed = await daemon.ctl("--json", "backend", "list")
    assert json.loads(listed.out) == [json.loads(added.out)]
    disabled = await daemon.ctl("--json", "backend", "disable", K1)
    assert (disabled.code, disabled.out, disabled.err) == (0, "", "")


async def test_json_prints_nothing_for_an_answer_without_a_body(daemon: Daemon) -> None:
    """A 204 has no JSON to print: scripts get empty output and exit status 0."""
    added = await daemon.ctl(
        "--json", "backend", "add", "--key", K1, "--lnd", "https://h:1", "--macaroon", "/m"
    )
    assert added.code == 0
    for verb in (["enable", K1], ["disable", K1], ["weight", K1, "4"], ["remove", K1]):
        ran = await daemon.ctl("--json", "backend", *verb)
        assert (ran.code, ran.out, ran.err) == (0, "", ""), verb
    assert json.loads((await daemon.ctl("--json", "backend", "list")).out) == []
    gone = await daemon.ctl("--json", "backend", "remove", K1)
    assert (gone.code, gone.out) == (1, "")
    assert "not found" in gone.err


def test_json_help_says_what_an_empty_answer_prints() -> None:
    assert "prints nothing and exits 0" in " ".join(build_parser().format_help().split())
