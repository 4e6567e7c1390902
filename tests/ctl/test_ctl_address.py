"""``switchgear-ctl address ...`` against a running daemon, and what wallets then see."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from ctl.conftest import Daemon, write_config
from switchgeard.config import load_config
from switchgeard.config.model import StoreConfig
from switchgeard.daemon.compose import run_daemon
from switchgeard.store import open_store
from switchgeard.store.records import Address
from switchgeard.units import Msat

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
HOST = "pay.example.com"


@dataclass
class Running(Daemon):
    """The daemon with its public base URL (``http://127.0.0.1:PORT``) and its database."""

    lnurl: str = ""
    db: Path = Path()

    async def wallet_get(self, path: str) -> tuple[int, Any]:
        """GET ``path`` as a wallet resolving ``user@pay.example.com`` would."""
        async with httpx.AsyncClient(base_url=self.lnurl, headers={"Host": HOST}) as http:
            response = await http.get(path)
        return response.status_code, response.json()


@pytest.fixture
async def running(tmp_path: Path, short_dir: Path, nursery: trio.Nursery) -> AsyncIterator[Running]:
    socket = short_dir / "admin.sock"
    config_path = write_config(tmp_path, socket)
    addresses = await nursery.start(partial(run_daemon, load_config(config_path)))
    yield Running(socket, config_path, lnurl=addresses.lnurl[0], db=tmp_path / "sg.db")


async def test_address_verbs(running: Running, tmp_path: Path) -> None:
    image = tmp_path / "logo.png"
    image.write_bytes(PNG)
    added = await running.ctl(
        "address", "add", "Alice@pay.example.com", "--text", "Alice's tips", "--min", "1000",
        "--max", "500000", "--long-text", "Thanks!", "--image", str(image), "--email",
        "--comment-allowed", "140", "--partition", "eu",
    )  # fmt: skip
    assert (added.code, added.out, added.err) == (0, "added address alice@pay.example.com\n", "")
    bob = await running.ctl(
        "address", "add", "--username", "bob", "--domain", "shop.example", "--text", "Bob",
        "--min", "1", "--max", "2000",
    )  # fmt: skip
    assert (bob.code, bob.out) == (0, "added address bob@shop.example\n")
    listed = await running.ctl("address", "list")
    assert listed.lines == [
        "ADDRESS                SOURCE  ENABLED  PARTITION  MIN MSAT  MAX MSAT  TEXT",
        "alice@pay.example.com  local   yes      eu         1000      500000    Alice's tips",
        "bob@shop.example       local   yes      default    1         2000      Bob",
    ]
    only_shop = await running.ctl("address", "list", "--domain", "shop.example")
    assert [line.split()[0] for line in only_shop.lines] == ["ADDRESS", "bob@shop.example"]
    paged = await running.ctl("address", "list", "--start", "1", "--count", "1")
    assert [line.split()[0] for line in paged.lines] == ["ADDRESS", "bob@shop.example"]
    no_ldap = await running.ctl("address", "list", "--source", "ldap")
    assert no_ldap.lines == ["ADDRESS  SOURCE  ENABLED  PARTITION  MIN MSAT  MAX MSAT  TEXT"]
    shown = await running.ctl("address", "show", "alice@pay.example.com")
    assert shown.lines == [
        "address:   alice@pay.example.com",
        "source:    local",
        "enabled:   yes",
        "partition: eu",
        "min msat:  1000",
        "max msat:  500000",
        "comments:  140",
        "text:      Alice's tips",
        "long text: Thanks!",
        "image:     png, 24 bytes",
        "mailbox:   yes",
    ]
    updated = await running.ctl(
        "address",
        "update",
        "alice@pay.example.com",
        "--text",
        "Tips",
        "--no-email",
        "--max",
        "9000",
    )
    assert (updated.code, updated.out) == (0, "updated address alice@pay.example.com\n")
    after = (await running.ctl("address", "show", "--username", "ALICE", "--domain", HOST)).lines
    assert (after[5], after[7], after[10]) == (
        "max msat:  9000",
        "text:      Tips",
        "mailbox:   no",
    )
    disabled = await running.ctl("address", "disable", "alice@pay.example.com")
    assert disabled.out == "disabled address alice@pay.example.com\n"
    assert (await running.ctl("address", "show", "alice@pay.example.com")).lines[2] == (
        "enabled:   no"
    )
    enabled = await running.ctl("address", "enable", "alice@pay.example.com")
    assert enabled.out == "enabled address alice@pay.example.com\n"
    removed = await running.ctl("address", "remove", "bob@shop.example")
    assert (removed.code, removed.out) == (0, "removed address bob@shop.example\n")
    gone = await running.ctl("address", "show", "bob@shop.example")
    assert (gone.code, gone.out) == (1, "")
    assert gone.err == (
        "switchgear-ctl: address bob@shop.example: not found: no address bob@shop.example\n"
    )


async def test_update_and_add_from_files(running: Running, tmp_path: Path) -> None:
    spec = tmp_path / "carol.json"
    body = {"domain": HOST, "username": "carol", "partition": "default", "text": "Carol"}
    spec.write_text(json.dumps(body | {"minSendable": 1000, "maxSendable": 2000}))
    added = await running.ctl("address", "add", "--from-file", str(spec))
    assert (added.code, added.out) == (0, "added address carol@pay.example.com\n")
    replaced = await running.ctl(
        "address", "update", "carol@pay.example.com", "--from-file", "-",
        stdin=json.dumps(body | {"text": "Carol C", "minSendable": 5, "maxSendable": 50}),
    )  # fmt: skip
    assert (replaced.code, replaced.out) == (0, "updated address carol@pay.example.com\n")
    created = await running.ctl(
        "address", "update", "dan@pay.example.com", "--from-file", "-",
        stdin=json.dumps(body | {"username": "dan", "minSendable": 1, "maxSendable": 2}),
    )  # fmt: skip
    assert (created.code, created.out) == (0, "created address dan@pay.example.com\n")
    shown = json.loads(
        (await running.ctl("--json", "address", "show", "carol@pay.example.com")).out
    )
    assert (shown["text"], shown["minSendable"], shown["maxSendable"]) == ("Carol C", 5, 50)


async def test_json_prints_the_api_answers(running: Running) -> None:
    added = await running.ctl(
        "--json", "address", "add", "erin@pay.example.com", "--text", "Erin", "--min", "1000",
        "--max", "2000",
    )  # fmt: skip
    expected = {
        "domain": HOST,
        "username": "erin",
        "partition": "default",
        "text": "Erin",
        "isEmail": False,
        "minSendable": 1000,
        "maxSendable": 2000,
        "commentAllowed": 0,
        "enabled": True,
        "source": "local",
    }
    assert (added.code, json.loads(added.out)) == (0, expected)
    shown = await running.ctl("--json", "address", "show", "erin@pay.example.com")
    assert shown.out == json.dumps(expected, separators=(",", ":")) + "\n"
    listed = await running.ctl("--json", "address", "list", "--source", "local")
    assert json.loads(listed.out) == [expected]
    disabled = await running.ctl("--json", "address", "disable", "erin@pay.example.com")
    assert (disabled.code, disabled.out, disabled.err) == (0, "", "")


@pytest.mark.parametrize(
    "argv",
    [
        ["address", "show"],
        ["address", "show", "alice"],
        ["address", "show", "@pay.example.com"],
        ["address", "show", "alice@pay.example.com", "--username", "bob"],
        ["address", "add", "alice@pay.example.com", "--text", "A", "--min", "1"],
        ["address", "add", "alice@pay.example.com", "--from-file", "x.json"],
        ["address", "add", "--text", "A", "--from-file", "x.json"],
        ["address", "update", "alice@pay.example.com"],
        ["address", "update", "alice@pay.example.com", "--text", "A", "--from-file", "x.json"],
        ["address", "list", "--source", "nis"],
        ["address", "list", "--count", "-1"],
        ["address", "rename", "alice@pay.example.com"],
    ],
)
async def test_usage_errors_exit_2(running: Running, argv: list[str]) -> None:
    ran = await running.ctl(*argv)
    assert (ran.code, ran.out) == (2, "")
    assert ran.err.startswith("switchgear-ctl") and len(ran.err.splitlines()) == 1


async def test_api_refusals_exit_1_naming_the_field(running: Running) -> None:
    bad = await running.ctl(
        "address", "add", "al ice@pay.example.com", "--text", "A", "--min", "1", "--max", "2"
    )
    assert bad.code == 1
    assert bad.err == (
        "switchgear-ctl: add address: invalid value: username: must be 1-64 characters of "
        "a-z 0-9 - _ .\n"
    )
    await running.ctl(
        "address", "add", "a@pay.example.com", "--text", "A", "--min", "1", "--max", "2"
    )
    twice = await running.ctl(
        "address", "add", "a@pay.example.com", "--text", "A", "--min", "1", "--max", "2"
    )
    assert (twice.code, twice.err) == (
        1,
        "switchgear-ctl: add address: conflict: username: "
        "address a@pay.example.com exists already\n",
    )
    missing = await running.ctl("address", "add", "a@x.example", "--text", "A", "--min", "1",
                                "--max", "2", "--image", "/nonexistent.png")  # fmt: skip
    assert missing.code == 1 and "cannot read image /nonexistent.png" in missing.err


async def test_ldap_addresses_can_only_be_enabled_or_disabled(running: Running) -> None:
    async with open_store(StoreConfig(url=f"sqlite:///{running.db}")) as store:
        await store.upsert_ldap_address(
            Address(
                domain=HOST,
                username="frank",
                partition="default",
                text="Frank",
                min_sendable=Msat(1000),
                max_sendable=Msat(2000),
                source="ldap",
                external_id="6a1f2c3e-0000-4000-8000-000000000001",
            )
        )
    listed = await running.ctl("address", "list", "--source", "ldap")
    assert listed.lines[1] == (
        "frank@pay.example.com  ldap    yes      default    1000      2000      Frank"
    )
    shown = await running.ctl("address", "show", "frank@pay.example.com")
    assert shown.lines[1] == "source:    ldap (entry 6a1f2c3e-0000-4000-8000-000000000001)"
    refused = await running.ctl("address", "update", "frank@pay.example.com", "--text", "F")
    assert (refused.code, refused.err) == (
        1,
        "switchgear-ctl: update address frank@pay.example.com: ldap managed: text: "
        "frank@pay.example.com is managed by LDAP; only enabled can be changed here\n",
    )
    removed = await running.ctl("address", "remove", "frank@pay.example.com")
    assert removed.code == 1 and "is managed by LDAP" in removed.err
    assert (await running.ctl("address", "disable", "frank@pay.example.com")).code == 0
    assert (await running.wallet_get("/.well-known/lnurlp/frank"))[0] == 404
    assert (await running.ctl("address", "enable", "frank@pay.example.com")).code == 0
    assert (await running.wallet_get("/.well-known/lnurlp/frank"))[0] == 200


async def test_an_address_added_with_ctl_is_served_to_wallets(running: Running) -> None:
    status, body = await running.wallet_get("/.well-known/lnurlp/grace")
    assert (status, body["status"]) == (404, "ERROR")
    added = await running.ctl(
        "address", "add", "grace@pay.example.com", "--text", "Grace", "--min", "1000",
        "--max", "2000000", "--comment-allowed", "50",
    )  # fmt: skip
    assert added.code == 0, added.err
    status, first = await running.wallet_get("/.well-known/lnurlp/Grace")
    assert status == 200, first
    assert (first["tag"], first["minSendable"], first["maxSendable"]) == (
        "payRequest",
        1000,
        2000000,
    )
    assert first["commentAllowed"] == 50
    assert json.loads(first["metadata"]) == [
        ["text/plain", "Grace"],
        ["text/identifier", "grace@pay.example.com"],
    ]
    assert first["callback"].endswith("://pay.example.com/.well-known/lnurlp/grace/callback")
    await running.ctl("address", "disable", "grace@pay.example.com")
    assert (await running.wallet_get("/.well-known/lnurlp/grace"))[0] == 404
    await running.ctl("address", "enable", "grace@pay.example.com")
    assert (await running.wallet_get("/.well-known/lnurlp/grace"))[0] == 200
    await running.ctl("address", "remove", "grace@pay.example.com")
    assert (await running.wallet_get("/.well-known/lnurlp/grace"))[0] == 404


def test_the_ldap_status_line() -> None:
    from switchgeard.ctl.daemon import ldap_summary

    ldap = {
        "state": "refused",
        "mode": None,
        "addresses": 0,
        "lastSyncedAt": None,
        "lastError": "invalid credentials for cn=admin,dc=example,dc=org",
        "invalidCount": 2,
        "duplicateCount": 1,
    }
    assert ldap_summary(ldap) == (
        "ldap refused; 0 addresses; last sync never; 3 entries skipped; "
        "error: invalid credentials for cn=admin,dc=example,dc=org"
    )
    synced = ldap | {"state": "synced", "mode": "poll", "lastSyncedAt": "2026-01-02T05:00:00Z"}
    assert ldap_summary(synced | {"invalidCount": 0, "duplicateCount": 0}) == (
        "ldap synced (poll); 0 addresses; last sync 2026-01-02T05:00:00Z"
    )
