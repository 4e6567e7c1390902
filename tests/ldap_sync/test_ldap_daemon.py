"""The daemon with ``[ldap]``: synced addresses in ``switchgear-ctl``, ``status`` and at wallets."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import httpx
import pytest
import trio
from ctl.conftest import CONFIG, Ran, run_ctl
from directory_admin import DirectoryAdmin
from slapd import PEOPLE, ROOT_DN, ROOT_PASSWORD, USER_FILTER, Slapd

from switchgeard.config import load_config
from switchgeard.daemon.compose import run_daemon

LDAP = """\
[ldap]
uri = "{uri}"
bind_dn = "{bind_dn}"
bind_password_file = "{password}"
base_dn = "{base_dn}"
filter = "{filter}"
domain = "pay.example.com"
sync = "syncrepl"
retry_initial = "100ms"
retry_max = "200ms"
network_timeout = "1s"
timeout = "2s"
"""


@pytest.fixture
def socket(short_dir: Path) -> Path:
    """The admin socket's path, short enough for AF_UNIX."""
    return short_dir / "admin.sock"


async def until(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    with trio.fail_after(within):
        while not await check():
            await trio.sleep(0.05)


async def test_synced_addresses_through_ctl_status_and_wallets(
    slapd: Slapd, directory: DirectoryAdmin, tmp_path: Path, socket: Path, nursery: trio.Nursery
) -> None:
    await directory.add_person("alice", displayName="Alice A")
    password = tmp_path / "ldap-password"
    password.write_text(ROOT_PASSWORD + "\n")
    config = CONFIG.format(db=tmp_path / "sg.db", socket=socket) + LDAP.format(
        uri=slapd.uri, bind_dn=ROOT_DN, password=password, base_dn=PEOPLE, filter=USER_FILTER
    )
    path = tmp_path / "switchgeard.toml"
    path.write_text(config, encoding="utf-8")
    addresses = await nursery.start(partial(run_daemon, load_config(path)))

    async def ctl(*argv: str) -> Ran:
        return await run_ctl("--socket", str(socket), *argv)

    async def ldap_state(state: str) -> bool:
        status = json.loads((await ctl("--json", "status")).out)
        return bool(status["ldap"]["state"] == state)

    await until(partial(ldap_state, "synced"))
    status = await ctl("status")
    ldap_line = status.lines[-1]
    assert ldap_line.startswith("ldap synced (syncrepl); 1 addresses; last sync 20"), ldap_line
    listed = await ctl("address", "list", "--source", "ldap")
    assert listed.lines[1].split() == [
        "alice@pay.example.com", "ldap", "yes", "default", "1000", "100000000000", "Alice", "A",
    ]  # fmt: skip
    refused = await ctl("address", "remove", "alice@pay.example.com")
    assert refused.code == 1 and "managed by LDAP" in refused.err
    async with httpx.AsyncClient(
        base_url=addresses.lnurl[0], headers={"Host": "pay.example.com"}
    ) as http:
        first = await http.get("/.well-known/lnurlp/alice")
        assert first.status_code == 200, first.text
        assert ["text/identifier", "alice@pay.example.com"] in json.loads(first.json()["metadata"])
        assert (await ctl("address", "disable", "alice@pay.example.com")).code == 0
        assert (await http.get("/.well-known/lnurlp/alice")).status_code == 404
    slapd.stop()
    await until(partial(ldap_state, "unavailable"))
    down = (await ctl("status")).lines[-1]
    assert down.startswith("ldap unavailable (syncrepl); 1 addresses; last sync 20"), down
    assert "; error: " in down
