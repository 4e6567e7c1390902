"""The LDAP syncer against a real slapd: every kind of change reaches the address endpoint.

syncrepl mode: within 2 s. Poll mode: within one poll interval. Restarts resume from the
saved cookie; while slapd is down the last addresses keep being served.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio
from directory_admin import DirectoryAdmin, person_dn
from ldap_world import World, eventually, ldap_config, open_world
from slapd import BLIND_DN, DISABLED_GROUP, SERVICE_PASSWORD, Slapd

from switchgeard.config.model import LdapAttributesConfig, Seconds
from switchgeard.ldap_sync import LdapSyncer, run_ldap_sync
from switchgeard.store.records import Address
from switchgeard.units import Msat

pytestmark = pytest.mark.deadline(40)


async def start_syncer(nursery: trio.Nursery, world: World, cfg: Any) -> LdapSyncer:
    syncer: LdapSyncer = await nursery.start(partial(run_ldap_sync, world.store, cfg))
    return syncer


async def text_of(world: World, username: str) -> str | None:
    body = await world.served(username)
    if body is None:
        return None
    return str(dict(__import__("json").loads(body["metadata"]))["text/plain"])


async def run_changes(world: World, directory: DirectoryAdmin, within: float) -> None:
    """Add, modify, rename, leave the filter, disable by group, delete: each within ``within``."""

    async def served(name: str) -> bool:
        return await world.served(name) is not None

    async def gone(name: str) -> bool:
        return await world.served(name) is None

    await directory.add_person("carol", displayName="Carol C")
    await eventually(partial(served, "carol"), within)
    await directory.replace(person_dn("bob"), "displayName", "Bobby Tables")
    await eventually(lambda: _text_is(world, "bob", "Bobby Tables"), within)
    await directory.rename(person_dn("bob"), "uid=robert")
    await eventually(lambda: _text_is(world, "robert", "Bobby Tables"), within)
    assert await gone("bob")
    await directory.replace(person_dn("carol"), "employeeType", "inactive")
    await eventually(partial(gone, "carol"), within)
    await directory.set_disabled(person_dn("alice"), True)
    await eventually(partial(gone, "alice"), within)
    await directory.set_disabled(person_dn("alice"), False)
    await eventually(partial(served, "alice"), within)
    await directory.delete(person_dn("robert"))
    await eventually(partial(gone, "robert"), within)


async def _text_is(world: World, username: str, text: str) -> bool:
    return await text_of(world, username) == text


async def seed(directory: DirectoryAdmin) -> None:
    await directory.add_person("alice", displayName="Alice A")
    await directory.add_person("bob")


async def test_syncrepl_changes_show_up_within_two_seconds(
    slapd: Slapd, directory: DirectoryAdmin, tmp_path: Path
) -> None:
    await seed(directory)
    cfg = ldap_config(slapd, tmp_path, groups=(DISABLED_GROUP,))
    async with open_world(tmp_path) as world, trio.open_nursery() as nursery:
        syncer = await start_syncer(nursery, world, cfg)
        await eventually(lambda: _text_is(world, "alice", "Alice A"))
        assert syncer.statistics().mode == "syncrepl"
        await run_changes(world, directory, within=2.0)
        stats = syncer.statistics()
        assert (stats.state, stats.addresses, stats.failures) == ("synced", 1, 0)
        nursery.cancel_scope.cancel()


async def test_poll_mode_changes_show_up_within_one_interval(
    slapd: Slapd, directory: DirectoryAdmin, tmp_path: Path
) -> None:
    await seed(directory)
    cfg = ldap_config(slapd, tmp_path, sync="poll", poll_interval=Seconds(1.0))
    async with open_world(tmp_path) as world, trio.open_nursery() as nursery:
        syncer = await start_syncer(nursery, world, cfg)
        await eventually(lambda: _text_is(world, "alice", "Alice A"))
        assert syncer.statistics().mode == "poll"
        # One interval, plus the time one paged search and the store write take.
        await run_changes(world, directory, within=1.0 + 0.5)
        assert syncer.statistics().last_full_sync_seconds is not None
        nursery.cancel_scope.cancel()


async def test_a_restart_resumes_from_the_saved_cookie(
    slapd: Slapd, directory: DirectoryAdmin, tmp_path: Path
) -> None:
    await seed(directory)
    cfg = ldap_config(slapd, tmp_path)
    async with open_world(tmp_path) as world:
        async with trio.open_nursery() as nursery:
            first = await start_syncer(nursery, world, cfg)
            await eventually(lambda: _synced(first))
            assert not first.statistics().resumed_from_cookie
            assert first.statistics().last_full_sync_at is not None
            nursery.cancel_scope.cancel()
        await directory.add_person("dave")
        await directory.delete(person_dn("bob"))
        async with trio.open_nursery() as nursery:
            second = await start_syncer(nursery, world, cfg)
            assert second.statistics().addresses == 2  # loaded from the store
            await eventually(lambda: _synced(second))
            stats = second.statistics()
            assert stats.resumed_from_cookie and stats.last_full_sync_at is None
            assert await world.served("dave") is not None
            assert await world.served("bob") is None
            nursery.cancel_scope.cancel()


async def _synced(syncer: LdapSyncer) -> bool:
    return syncer.statistics().state == "synced"


async def test_addresses_stay_served_while_slapd_is_down(
    slapd: Slapd, directory: DirectoryAdmin, tmp_path: Path
) -> None:
    await seed(directory)
    cfg = ldap_config(slapd, tmp_path)
    async with open_world(tmp_path) as world, trio.open_nursery() as nursery:
        syncer = await start_syncer(nursery, world, cfg)
        await eventually(lambda: _synced(syncer))
        await trio.to_thread.run_sync(slapd.stop)
        await eventually(lambda: _state_is(syncer, "unavailable"), within=5)
        stats = syncer.statistics()
        assert stats.last_error and "contact" in stats.last_error.lower()
        assert stats.retry_at is not None and stats.failures >= 1
        assert await world.served("alice") is not None
        await trio.to_thread.run_sync(slapd.start)
        await directory.add_person("erin")
        await eventually(lambda: _served(world, "erin"), within=5)
        await eventually(lambda: _synced(syncer))
        assert syncer.statistics().failures == 0
        nursery.cancel_scope.cancel()


async def _state_is(syncer: LdapSyncer, state: str) -> bool:
    return syncer.statistics().state == state


async def _served(world: World, name: str) -> bool:
    return await world.served(name) is not None


async def test_a_bind_that_cannot_read_entryuuid_is_a_clear_error(
    slapd: Slapd, directory: DirectoryAdmin, tmp_path: Path
) -> None:
    await seed(directory)
    password = tmp_path / "blind-password"
    password.write_text(SERVICE_PASSWORD)
    for mode in ("syncrepl", "poll"):
        cfg = ldap_config(slapd, tmp_path, bind_dn=BLIND_DN, bind_password_file=password, sync=mode)
        (tmp_path / mode).mkdir()
        async with open_world(tmp_path / mode) as world, trio.open_nursery() as nursery:
            syncer = await start_syncer(nursery, world, cfg)
            await eventually(lambda s=syncer: _state_is(s, "refused"), within=5)
            error = syncer.statistics().last_error or ""
            assert "entryUUID" in error and "uid=" in error, error
            assert await world.served("alice") is None
            nursery.cancel_scope.cancel()


async def test_invalid_names_are_skipped_and_duplicates_keep_the_first(
    slapd: Slapd, directory: DirectoryAdmin, tmp_path: Path
) -> None:
    attributes = LdapAttributesConfig(username="mail-localpart")
    cfg = ldap_config(slapd, tmp_path, attributes=attributes)
    await directory.add_person("p1", mail="Pay@localhost", displayName="first")
    await directory.add_person("p2", mail="bad name@localhost")
    await directory.add_person("p3", mail="someone@elsewhere.example")
    async with open_world(tmp_path) as world, trio.open_nursery() as nursery:
        syncer = await start_syncer(nursery, world, cfg)
        await eventually(lambda: _synced(syncer))
        assert await text_of(world, "pay") == "first"
        invalid = {p.dn: p.reason for p in syncer.statistics().invalid}
        assert set(invalid) == {person_dn("p2"), person_dn("p3")}
        assert "not a valid user name" in invalid[person_dn("p2")]
        await directory.add_person("p4", mail="pay@localhost", displayName="second")
        await eventually(lambda: _duplicates(syncer, 1))
        duplicate = syncer.statistics().duplicates[0]
        assert duplicate.dn == person_dn("p4") and "pay" in duplicate.reason
        assert await text_of(world, "pay") == "first"
        await directory.delete(person_dn("p1"))
        await eventually(lambda: _text_is(world, "pay", "second"))
        assert syncer.statistics().duplicate_count == 0
        nursery.cancel_scope.cancel()


async def _duplicates(syncer: LdapSyncer, count: int) -> bool:
    return syncer.statistics().duplicate_count == count


@pytest.mark.parametrize("precedence", ["local", "ldap"])
async def test_precedence_between_local_and_ldap_addresses(
    slapd: Slapd, directory: DirectoryAdmin, tmp_path: Path, precedence: str
) -> None:
    await seed(directory)
    cfg = ldap_config(slapd, tmp_path, precedence=precedence, sync="poll")
    async with open_world(tmp_path) as world, trio.open_nursery() as nursery:
        local = Address(
            domain="localhost",
            username="alice",
            partition="default",
            text="local alice",
            min_sendable=Msat(1000),
            max_sendable=Msat(10_000),
        )
        await world.store.create_address(local)
        syncer = await start_syncer(nursery, world, cfg)
        await eventually(lambda: _synced(syncer))
        expected = "local alice" if precedence == "local" else "Alice A"
        assert await text_of(world, "alice") == expected
        assert syncer.statistics().duplicate_count == (precedence == "local")
        nursery.cancel_scope.cancel()
