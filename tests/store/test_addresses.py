"""Lightning Addresses, the LDAP sync operations and sync state, on both engines."""

from __future__ import annotations

import dataclasses

import pytest

from store import samples
from switchgeard.errors import Conflict, InvalidInput, NotFound
from switchgeard.store import Store
from switchgeard.store.records import Page


async def test_address_crud_and_case_insensitive_lookup(store: Store) -> None:
    new = samples.address("Alice", domain="Pay.Example", image=samples.image(), is_email=True)
    stored = await store.create_address(new)
    assert (stored.username, stored.domain) == ("alice", "pay.example")
    assert await store.get_address("PAY.example", "ALICE") == stored
    with pytest.raises(Conflict):
        await store.create_address(new)
    replaced, created = await store.put_address(dataclasses.replace(new, comment_allowed=200))
    assert not created and replaced.created_at == stored.created_at
    assert (await store.get_address("pay.example", "alice")).comment_allowed == 200
    disabled = await store.set_address_enabled("pay.example", "alice", False)
    assert not disabled.enabled and disabled.comment_allowed == 200
    await store.delete_address("pay.example", "alice")
    with pytest.raises(NotFound):
        await store.get_address("pay.example", "alice")
    with pytest.raises(NotFound):
        await store.delete_address("pay.example", "alice")
    with pytest.raises(NotFound):
        await store.set_address_enabled("pay.example", "alice", True)


async def test_list_addresses_filters_and_pages(store: Store) -> None:
    bob = await store.create_address(samples.address("bob"))
    eve = await store.create_address(samples.address("eve", domain="other.example"))
    carol, _ = await store.upsert_ldap_address(samples.ldap_address("carol", "uuid-carol"))
    assert await store.list_addresses(Page()) == [bob, eve, carol]
    assert await store.list_addresses(Page(), domain="pay.example") == [bob, carol]
    assert await store.list_addresses(Page(), source="ldap") == [carol]
    assert await store.list_addresses(Page(start=1, count=1)) == [eve]
    assert await store.list_addresses(Page(count=0)) == []
    with pytest.raises(InvalidInput) as caught:
        await store.list_addresses(Page(count=11))
    assert caught.value.field == "count"


async def test_local_writes_refuse_ldap_records_and_names(store: Store) -> None:
    with pytest.raises(InvalidInput) as caught:
        await store.create_address(samples.ldap_address("dave", "uuid-dave"))
    assert caught.value.field == "source"
    await store.upsert_ldap_address(samples.ldap_address("dave", "uuid-dave"))
    with pytest.raises(Conflict):
        await store.put_address(samples.address("dave"))
    with pytest.raises(Conflict, match="managed by LDAP"):
        await store.delete_address("pay.example", "dave")
    assert (await store.get_address("pay.example", "dave")).source == "ldap"


async def test_upsert_ldap_address_follows_renames_and_refuses_taken_names(store: Store) -> None:
    first, created = await store.upsert_ldap_address(samples.ldap_address("ann", "uuid-1"))
    assert created
    renamed, created = await store.upsert_ldap_address(samples.ldap_address("anne", "uuid-1"))
    assert not created and renamed.created_at == first.created_at
    with pytest.raises(NotFound):
        await store.get_address("pay.example", "ann")
    await store.create_address(samples.address("zed"))
    with pytest.raises(Conflict):
        await store.upsert_ldap_address(samples.ldap_address("zed", "uuid-2"))
    assert await store.delete_ldap_address("uuid-1")
    assert not await store.delete_ldap_address("uuid-1")


async def test_replace_ldap_addresses_is_a_full_sync(store: Store) -> None:
    local = await store.create_address(samples.address("taken"))
    await store.upsert_ldap_address(samples.ldap_address("old", "uuid-old"))
    await store.upsert_ldap_address(samples.ldap_address("kept", "uuid-kept"))
    result = await store.replace_ldap_addresses(
        [
            samples.ldap_address("kept", "uuid-kept", text="updated"),
            samples.ldap_address("new", "uuid-new"),
            samples.ldap_address("taken", "uuid-clash"),
        ]
    )
    assert (result.inserted, result.updated, result.deleted) == (1, 1, 1)
    assert result.skipped == ("uuid-clash",)
    ldap = await store.list_addresses(Page(), source="ldap")
    assert sorted(a.username for a in ldap) == ["kept", "new"]
    assert (await store.get_address("pay.example", "kept")).text == "updated"
    assert await store.get_address("pay.example", "taken") == local


async def test_replace_ldap_addresses_rejects_bad_batches_whole(store: Store) -> None:
    await store.upsert_ldap_address(samples.ldap_address("kept", "uuid-kept"))
    before = await store.list_addresses(Page())
    bad_batches = [
        ([samples.ldap_address("a", "x"), samples.ldap_address("b", "x")], "externalId"),
        ([samples.ldap_address("a", "y"), samples.ldap_address("B@d", "z")], "username"),
        ([samples.address("a")], "source"),
    ]
    for batch, field in bad_batches:
        with pytest.raises(InvalidInput) as caught:
            await store.replace_ldap_addresses(batch)
        assert caught.value.field == field
    assert await store.list_addresses(Page()) == before


async def test_sync_state(store: Store) -> None:
    assert await store.get_sync_state("ldap.cookie") is None
    await store.set_sync_state("ldap.cookie", "rid=001,csn=1")
    await store.set_sync_state("ldap.cookie", "rid=001,csn=2")
    await store.set_sync_state("other", "")
    assert await store.get_sync_state("ldap.cookie") == "rid=001,csn=2"
    assert await store.get_sync_state("other") == ""


async def test_ldap_updates_keep_an_admins_enabled_override(store: Store) -> None:
    await store.upsert_ldap_address(samples.ldap_address("gus", "uuid-gus"))
    await store.set_address_enabled("pay.example", "gus", False)
    updated, created = await store.upsert_ldap_address(
        samples.ldap_address("gus", "uuid-gus", text="new text")
    )
    assert not created and not updated.enabled and updated.text == "new text"
    await store.replace_ldap_addresses([samples.ldap_address("gus", "uuid-gus", text="again")])
    stored = await store.get_address("pay.example", "gus")
    assert (stored.enabled, stored.text) == (False, "again")


async def test_replace_local_lets_ldap_take_over_a_local_name(store: Store) -> None:
    await store.create_address(samples.address("hal"))
    await store.create_address(samples.address("ivy"))
    with pytest.raises(Conflict):
        await store.upsert_ldap_address(samples.ldap_address("hal", "uuid-hal"))
    _, created = await store.upsert_ldap_address(
        samples.ldap_address("hal", "uuid-hal"), replace_local=True
    )
    assert created and (await store.get_address("pay.example", "hal")).external_id == "uuid-hal"
    result = await store.replace_ldap_addresses(
        [samples.ldap_address("hal", "uuid-hal"), samples.ldap_address("ivy", "uuid-ivy")],
        replace_local=True,
    )
    assert result.skipped == () and result.inserted == 1
    assert (await store.get_address("pay.example", "ivy")).source == "ldap"
    await store.upsert_ldap_address(samples.ldap_address("jo", "uuid-jo"))
    with pytest.raises(Conflict):
        await store.upsert_ldap_address(
            samples.ldap_address("jo", "uuid-other"), replace_local=True
        )
