"""How the syncer reaches the directory: mode detection, TLS, and the periodic full resync.

``sync = "auto"`` against a slapd without syncprov polls; ldaps:// and StartTLS work with
``tls_ca_file`` and fail with a clear ``status`` error when the certificate is not trusted;
in syncrepl mode a full reconcile runs again every ``full_resync_interval``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio
import trustme
from directory_admin import DirectoryAdmin, person_dn
from ldap_world import World, eventually, ldap_config, open_world
from slapd import Slapd

from switchgeard.config.model import Seconds
from switchgeard.ldap_sync import LdapSyncer, run_ldap_sync

pytestmark = pytest.mark.deadline(30)


async def start_syncer(nursery: trio.Nursery, world: World, cfg: Any) -> LdapSyncer:
    syncer: LdapSyncer = await nursery.start(partial(run_ldap_sync, world.store, cfg))
    return syncer


async def served(world: World, username: str) -> bool:
    return await world.served(username) is not None


async def gone(world: World, username: str) -> bool:
    return await world.served(username) is None


async def state_is(syncer: LdapSyncer, state: str) -> bool:
    return syncer.statistics().state == state


@pytest.fixture
def plain_slapd() -> Iterator[Slapd]:
    """A slapd without the syncprov overlay: its root DSE does not offer syncrepl."""
    server = Slapd.create(syncprov=False)
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def tls_slapd() -> Iterator[Slapd]:
    """A slapd with a certificate from a throwaway CA, on ldap:// (StartTLS) and ldaps://."""
    server = Slapd.create(tls=True)
    server.start()
    try:
        yield server
    finally:
        server.destroy()


async def test_auto_polls_a_server_without_syncrepl(plain_slapd: Slapd, tmp_path: Path) -> None:
    directory = DirectoryAdmin(plain_slapd.uri)
    await directory.add_person("alice", displayName="Alice A")
    cfg = ldap_config(plain_slapd, tmp_path, sync="auto", poll_interval=Seconds(1.0))
    try:
        with trio.fail_after(10):
            async with open_world(tmp_path) as world, trio.open_nursery() as nursery:
                syncer = await start_syncer(nursery, world, cfg)
                await eventually(partial(served, world, "alice"))
                assert syncer.statistics().mode == "poll"
                assert syncer.statistics().to_json()["mode"] == "poll"
                # One interval, plus the time one paged search and the store write take.
                await directory.add_person("carol")
                await eventually(partial(served, world, "carol"), within=1.5)
                await directory.delete(person_dn("alice"))
                await eventually(partial(gone, world, "alice"), within=1.5)
                assert syncer.statistics().mode == "poll"
                nursery.cancel_scope.cancel()
    finally:
        await directory.close()


def tls_settings(slapd: Slapd, transport: str) -> dict[str, Any]:
    if transport == "ldaps":
        return {"uri": slapd.ldaps_uri}
    return {"uri": slapd.uri, "start_tls": True}


@pytest.mark.parametrize("transport", ["ldaps", "starttls"])
async def test_sync_over_tls_with_the_configured_ca(
    tls_slapd: Slapd, tmp_path: Path, transport: str
) -> None:
    directory = DirectoryAdmin(tls_slapd.uri)
    await directory.add_person("alice", displayName="Alice A")
    settings = tls_settings(tls_slapd, transport)
    cfg = ldap_config(tls_slapd, tmp_path, tls_ca_file=tls_slapd.ca_file, **settings)
    try:
        with trio.fail_after(10):
            async with open_world(tmp_path) as world, trio.open_nursery() as nursery:
                syncer = await start_syncer(nursery, world, cfg)
                await eventually(partial(state_is, syncer, "synced"), within=5)
                stats = syncer.statistics()
                assert (stats.mode, stats.uri, stats.failures) == ("syncrepl", settings["uri"], 0)
                assert await served(world, "alice")
                await directory.add_person("carol")
                await eventually(partial(served, world, "carol"))
                nursery.cancel_scope.cancel()
    finally:
        await directory.close()


@pytest.mark.parametrize("transport", ["ldaps", "starttls"])
async def test_an_untrusted_certificate_is_a_clear_error(
    tls_slapd: Slapd, tmp_path: Path, transport: str
) -> None:
    stranger = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    settings = tls_settings(tls_slapd, transport)
    cfg = ldap_config(tls_slapd, tmp_path, tls_ca_file=stranger, **settings)
    with trio.fail_after(10):
        async with open_world(tmp_path) as world, trio.open_nursery() as nursery:
            syncer = await start_syncer(nursery, world, cfg)
            await eventually(partial(state_is, syncer, "refused"), within=5)
            stats = syncer.statistics()
            error = stats.last_error or ""
            assert "TLS handshake failed" in error and "certificate" in error, error
            assert str(stranger) in error and settings["uri"] in error, error
            assert stats.mode is None and stats.addresses == 0
            nursery.cancel_scope.cancel()


async def test_a_full_resync_runs_every_interval(
    slapd: Slapd, directory: DirectoryAdmin, tmp_path: Path
) -> None:
    await directory.add_person("alice", displayName="Alice A")
    # No watched groups: only a full reconcile notices a memberOf change (syncprov is silent).
    cfg = ldap_config(slapd, tmp_path, sync="syncrepl", full_resync_interval=Seconds(1.0))
    with trio.fail_after(15):
        async with open_world(tmp_path) as world, trio.open_nursery() as nursery:
            syncer = await start_syncer(nursery, world, cfg)
            await eventually(partial(state_is, syncer, "synced"))
            first = full_sync_at(syncer)
            await eventually(lambda: _full_sync_after(syncer, first), within=2.5)
            second = full_sync_at(syncer)
            await eventually(lambda: _full_sync_after(syncer, second), within=2.5)
            assert syncer.statistics().mode == "syncrepl"
            await directory.set_disabled(person_dn("alice"), True)
            changed = datetime.now(second.tzinfo)
            await eventually(partial(gone, world, "alice"), within=2.5)
            assert full_sync_at(syncer) > changed
            nursery.cancel_scope.cancel()


def full_sync_at(syncer: LdapSyncer) -> datetime:
    at = syncer.statistics().last_full_sync_at
    assert at is not None
    return at


async def _full_sync_after(syncer: LdapSyncer, before: datetime) -> bool:
    return full_sync_at(syncer) > before
