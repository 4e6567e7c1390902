"""status, reload, config, the socket itself, a real subprocess and rich output."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import sys
from functools import partial
from pathlib import Path

import pytest
import trio
from admin.bodies import node_key
from rich.console import Console

from ctl.conftest import Daemon, run_ctl, write_config
from switchgeard.config import load_config
from switchgeard.ctl.main import main
from switchgeard.daemon.compose import run_daemon

STATUS_HEADER = (
    "BACKEND  KIND  HEALTH  ENABLED  WEIGHT  PARTITIONS  LATENCY  INBOUND  INVOICES OK/FAILED"
)


def _uptime(text: str) -> str:
    return re.sub(r"up \d+s", "up Ns", text)


@pytest.mark.allow_error_logs
async def test_status_and_reload(daemon: Daemon) -> None:
    empty = await daemon.ctl("status")
    assert _uptime(empty.out) == (
        f"{STATUS_HEADER}\n"
        "0 backends: 0 healthy, 0 unhealthy, 0 unknown; partitions default DOWN; up Ns; "
        "switchgeard 0.1.0; store sqlite\n"
    )
    status = json.loads((await daemon.ctl("--json", "status")).out)
    assert status["publicUrl"] == "https://pay.example.com"
    assert status["configFile"] == str(daemon.config_path)
    assert (await daemon.ctl("reload", "--wait")).out == "reloaded; changed: nothing\n"
    text = daemon.config_path.read_text(encoding="utf-8")
    daemon.config_path.write_text(
        text.replace('backend_refresh = "100ms"', 'backend_refresh = "200ms"')
    )
    assert (await daemon.ctl("reload", "--wait")).out == "reloaded; changed: balancer\n"
    daemon.config_path.write_text(text + "[nonsense]\n", encoding="utf-8")
    refused = await daemon.ctl("reload", "--wait")
    assert refused.code == 1
    assert refused.err.startswith("switchgear-ctl: reload: config invalid: ")
    assert refused.err.count("\n") == 1
    assert (await daemon.ctl("reload")).out == "reload requested\n"
    assert "last reload FAILED" in (await daemon.ctl("status")).out


async def test_status_watch_refreshes(daemon: Daemon) -> None:
    watched = await daemon.ctl("status", "--watch", "--interval", "0.01", "--iterations", "2")
    assert watched.code == 0
    assert watched.lines.count(STATUS_HEADER) == 2


@pytest.mark.deadline(60)
async def test_status_follows_a_node_going_down_and_coming_back(
    daemon: Daemon, tmp_path: Path, nursery: trio.Nursery
) -> None:
    from switchgeard.lightning import open_bridge
    from switchgeard.testing.fake_lnd import serve_fake_lnd

    async with open_bridge(), trio.open_nursery() as node:
        lnd = await node.start(serve_fake_lnd, tmp_path / "lnd")
        info = lnd.info()
        added = await daemon.ctl(
            "backend", "add", "--key", lnd.pubkey, "--name", "fake", "--lnd", info["url"],
            "--macaroon", info["macaroon_path"], "--tls-cert", info["tls_cert_path"],
        )  # fmt: skip
        assert added.code == 0, added.err

        async def wait_for(health: str) -> dict[str, object]:
            with trio.fail_after(15):
                while True:
                    status = json.loads((await daemon.ctl("--json", "status")).out)
                    if status["backends"] and status["backends"][0]["health"] == health:
                        return status
                    await trio.sleep(0.05)

        up = await wait_for("healthy")
        assert up["partitions"] == {"default": True}
        row = (await daemon.ctl("status")).lines[1]
        pattern = r"fake +lnd +healthy +yes +1 +default +\d+\.\d ms +[\d,]+ sat +0/0"
        assert re.fullmatch(pattern, row), row
        await lnd.go_down()
        down = await wait_for("unhealthy")
        assert down["partitions"] == {"default": False}
        assert down["backends"][0]["lastError"]
        summary = (await daemon.ctl("status")).lines[-1]
        assert summary.startswith(
            "1 backends: 0 healthy, 1 unhealthy, 0 unknown; partitions default DOWN"
        )
        await lnd.come_up()
        await wait_for("healthy")
        node.cancel_scope.cancel()


async def test_config_init_and_check(tmp_path: Path) -> None:
    path = tmp_path / "starter.toml"
    made = await run_ctl("config", "init", str(path))
    assert (made.code, made.out) == (0, f"wrote {path}\n")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# switchgeard configuration (starter).")
    assert "# Required. sqlite:///absolute/path.db" in text
    assert load_config(path).admin.socket == Path("/run/switchgeard/admin.sock")
    again = await run_ctl("config", "init", str(path))
    assert (again.code, again.err) == (
        1,
        f"switchgear-ctl: config init: {path} exists already (use --force)\n",
    )
    assert (await run_ctl("config", "init", str(path), "--force")).code == 0
    stdout = await run_ctl("config", "init", "-")
    assert stdout.out == text
    checked = await run_ctl("config", "check", str(path))
    assert checked.code == 0, checked.err
    path.write_text(text + "[bogus]\nkey = 1\n", encoding="utf-8")
    bad = await run_ctl("config", "check", str(path))
    assert bad.code == 1
    assert bad.err.count("\n") == 1 and "bogus" in bad.err


async def test_socket_from_env_and_missing_socket(tmp_path: Path, daemon: Daemon) -> None:
    from_env = await run_ctl("status", environ={"SWITCHGEAR_SOCKET": str(daemon.socket)})
    assert from_env.code == 0
    missing = tmp_path / "none.sock"
    ran = await run_ctl("--socket", str(missing), "status")
    assert (ran.code, ran.out) == (1, "")
    assert ran.err == (
        f"switchgear-ctl: cannot use admin socket {missing}: "
        "no such socket (is switchgeard running? try --socket)\n"
    )
    default = await run_ctl("backend", "list")
    assert default.err.startswith(
        "switchgear-ctl: cannot use admin socket /run/switchgeard/admin.sock: "
    )


async def test_permission_denied_names_the_socket(daemon: Daemon) -> None:
    os.chmod(daemon.socket, 0)
    argv = [_ctl_script(), "--socket", str(daemon.socket), "status"]
    if os.geteuid() == 0:  # root ignores file modes unless it gives up CAP_DAC_OVERRIDE
        argv = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *argv]
    result = await trio.run_process(argv, capture_stdout=True, capture_stderr=True, check=False)
    assert (result.returncode, result.stdout) == (1, b"")
    assert result.stderr.decode() == (
        f"switchgear-ctl: cannot use admin socket {daemon.socket}: "
        "permission denied (are you in the socket's group?)\n"
    )


def _ctl_script() -> str:
    return str(Path(sys.executable).with_name("switchgear-ctl"))


async def test_real_subprocess(daemon: Daemon) -> None:
    await daemon.ctl(
        "backend", "add", "--key", node_key(1), "--lnd", "https://h:1", "--macaroon", "/m"
    )
    result = await trio.run_process(
        [_ctl_script(), "--socket", str(daemon.socket), "--json", "backend", "list"],
        capture_stdout=True,
        check=False,
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)[0]["publicKey"] == node_key(1)
    usage = await trio.run_process([_ctl_script(), "offer"], capture_stderr=True, check=False)
    assert usage.returncode == 2
    helped = await trio.run_process([_ctl_script(), "--help"], capture_stdout=True, check=False)
    assert helped.returncode == 0
    assert b"SWITCHGEAR_SOCKET" in helped.stdout


async def test_socket_mode_and_removal(tmp_path: Path, short_dir: Path) -> None:
    socket = short_dir / "mode.sock"
    config = load_config(write_config(tmp_path, socket))
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            await nursery.start(partial(run_daemon, config))
            assert stat.S_ISSOCK(os.stat(socket).st_mode)
            assert stat.S_IMODE(os.stat(socket).st_mode) == 0o600
            nursery.cancel_scope.cancel()
    assert not socket.exists()


async def test_rich_tables_with_a_fixed_width_console(daemon: Daemon) -> None:
    await daemon.ctl(
        "backend",
        "add",
        "--key",
        node_key(1),
        "--name",
        "n1",
        "--lnd",
        "https://h:1",
        "--macaroon",
        "/m",
    )
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, no_color=True, color_system=None)
    argv = ["--socket", str(daemon.socket), "backend", "list"]
    code = await trio.to_thread.run_sync(partial(main, argv, console=console, stderr=io.StringIO()))
    assert code == 0
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    assert lines == [
        "KEY" + " " * 65 + "NAME  KIND  ENABLED  WEIGHT  PARTITIONS  URL",
        f"{node_key(1)}  n1    lnd   yes      1       default     https://h:1",
    ]
