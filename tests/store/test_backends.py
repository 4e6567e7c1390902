"""Backend operations and the backend-set version, on both engines."""

from __future__ import annotations

import dataclasses

import pytest

from store import samples
from switchgeard.errors import Conflict, InvalidInput, NotFound
from switchgeard.store import Store
from switchgeard.store.records import BackendPatch


async def test_create_get_list_in_creation_order(store: Store) -> None:
    # Keys are created in an order unrelated to their hex order.
    created = [await store.create_backend(samples.backend(seed)) for seed in (5, 1, 9, 3)]
    listed = await store.list_backends()
    assert [b.public_key for b in listed] == [b.public_key for b in created]
    assert listed == created
    got = await store.get_backend(created[2].public_key)
    assert got == created[2]
    assert got.created_at is not None and got.created_at == got.updated_at


async def test_get_accepts_uncompressed_key_and_returns_compressed(store: Store) -> None:
    stored = await store.create_backend(samples.backend(1))
    got = await store.get_backend(samples.uncompressed(stored.public_key).upper())
    assert got.public_key == stored.public_key


async def test_create_existing_key_conflicts_and_keeps_version(store: Store) -> None:
    await store.create_backend(samples.backend(1))
    version = await store.backend_version()
    with pytest.raises(Conflict):
        await store.create_backend(samples.backend(1, name="other"))
    assert await store.backend_version() == version
    assert (await store.get_backend(samples.node_key(1))).name == "node 1"


async def test_put_creates_then_replaces_keeping_created_and_updating_partitions(
    store: Store,
) -> None:
    first, created = await store.put_backend(samples.backend(1))
    assert created
    replacement = samples.backend(
        1, name=None, partitions=frozenset({"us", "eu"}), weight=0, implementation=samples.cln()
    )
    second, created = await store.put_backend(replacement)
    assert not created
    got = await store.get_backend(samples.node_key(1))
    assert got == second
    assert got.created_at == first.created_at
    assert got.updated_at is not None and first.updated_at is not None
    assert got.updated_at > first.updated_at
    assert got.partitions == frozenset({"eu", "us"})  # the original's DB store forgot these
    assert got.name is None and got.weight == 0
    assert got.implementation == samples.cln()


async def test_patch_changes_only_given_fields(store: Store) -> None:
    original = await store.create_backend(samples.backend(1, partitions=frozenset({"a", "b"})))
    patched = await store.patch_backend(original.public_key, BackendPatch(weight=7))
    assert patched == dataclasses.replace(original, weight=7, updated_at=patched.updated_at)
    patched = await store.patch_backend(
        original.public_key, BackendPatch(partitions=frozenset({"c"}), enabled=False, name="x")
    )
    assert (patched.partitions, patched.enabled, patched.name) == (frozenset({"c"}), False, "x")
    assert patched.created_at == original.created_at


async def test_patch_can_clear_the_name(store: Store) -> None:
    original = await store.create_backend(samples.backend(1))
    patched = await store.patch_backend(original.public_key, BackendPatch(clear_name=True))
    assert patched.name is None


async def test_patch_and_delete_missing_are_not_found_without_bump(store: Store) -> None:
    version = await store.backend_version()
    with pytest.raises(NotFound):
        await store.patch_backend(samples.node_key(1), BackendPatch(weight=1))
    with pytest.raises(NotFound):
        await store.delete_backend(samples.node_key(1))
    with pytest.raises(NotFound):
        await store.get_backend(samples.node_key(1))
    assert await store.backend_version() == version


async def test_every_successful_mutation_bumps_the_version_once(store: Store) -> None:
    assert await store.backend_version() == 0
    key = samples.node_key(1)
    await store.create_backend(samples.backend(1))
    assert await store.backend_version() == 1
    await store.put_backend(samples.backend(1, weight=3))
    await store.put_backend(samples.backend(2))
    assert await store.backend_version() == 3
    await store.patch_backend(key, BackendPatch())  # an empty patch still counts
    assert await store.backend_version() == 4
    await store.delete_backend(key)
    assert await store.backend_version() == 5
    version, listed = await store.backend_snapshot()
    assert version == 5 and [b.public_key for b in listed] == [samples.node_key(2)]


async def test_invalid_patch_writes_nothing(store: Store) -> None:
    original = await store.create_backend(samples.backend(1))
    version = await store.backend_version()
    with pytest.raises(InvalidInput) as caught:
        await store.patch_backend(original.public_key, BackendPatch(weight=-1))
    assert caught.value.field == "weight"
    with pytest.raises(InvalidInput) as caught:
        await store.patch_backend(original.public_key, BackendPatch(partitions=frozenset({"a/b"})))
    assert caught.value.field == "partitions"
    assert await store.backend_version() == version
    assert await store.get_backend(original.public_key) == original


async def test_bad_key_on_lookup_names_public_key(store: Store) -> None:
    with pytest.raises(InvalidInput) as caught:
        await store.get_backend("02" + "00" * 32)  # not on the curve
    assert caught.value.field == "publicKey"
