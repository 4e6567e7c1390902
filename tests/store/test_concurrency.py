"""Two store instances on one database: interleaved mutations, no lost updates."""

from __future__ import annotations

import dataclasses
import itertools
import uuid

import trio

from store import samples
from switchgeard.config.model import StoreConfig
from switchgeard.store import Store, open_store
from switchgeard.store.records import BackendPatch, Page

KEYS_PER_INSTANCE = 25  # x 4 backend mutations x 2 instances = 200
SHARED = samples.node_key(10_000)


async def _mutate(store: Store, tag: int, created_flags: list[bool], order: list[int]) -> None:
    """100 backend mutations; every fifth key is deleted, the rest end as planned."""
    for i in range(KEYS_PER_INSTANCE):
        order.append(tag)
        seed = tag * 1000 + i
        key = samples.node_key(seed)
        await store.create_backend(samples.backend(seed))
        await store.put_backend(samples.backend(seed, weight=i))
        await store.patch_backend(key, BackendPatch(enabled=i % 2 == 0))
        if i % 5 == 0:
            await store.delete_backend(key)
        else:
            _, created = await store.put_backend(samples.backend(10_000, weight=tag))
            created_flags.append(created)


async def test_two_instances_interleave_without_lost_updates(store_config: StoreConfig) -> None:
    created_flags: list[bool] = []
    order: list[int] = []
    config = dataclasses.replace(store_config, page_max=1000)
    with trio.fail_after(25):
        async with open_store(config) as first, open_store(config) as second:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_mutate, first, 1, created_flags, order)
                nursery.start_soon(_mutate, second, 2, created_flags, order)
            assert await first.backend_version() == 2 * 4 * KEYS_PER_INSTANCE
            assert await second.backend_version() == 2 * 4 * KEYS_PER_INSTANCE
            listed = await second.list_backends()
    assert sum(a != b for a, b in itertools.pairwise(order)) >= 2  # the runs overlapped
    assert created_flags.count(True) == 1  # exactly one put created the shared backend
    expected = {
        samples.node_key(tag * 1000 + i): (i, i % 2 == 0)
        for tag in (1, 2)
        for i in range(KEYS_PER_INSTANCE)
        if i % 5 != 0
    }
    found = {b.public_key: (b.weight, b.enabled) for b in listed if b.public_key != SHARED}
    assert found == expected
    assert SHARED in {b.public_key for b in listed}


async def _put_shared_records(store: Store, tag: int, flags: list[bool]) -> None:
    meta = samples.metadata(id=uuid.UUID(int=1))
    for n in range(10):
        _, created = await store.put_metadata(dataclasses.replace(meta, text=f"{tag}-{n}"))
        flags.append(created)
        _, created = await store.put_offer(samples.offer(meta, id=uuid.UUID(int=2)))
        flags.append(created)
        await store.set_sync_state("cursor", f"{tag}-{n}")


async def test_concurrent_upserts_create_exactly_once(store_config: StoreConfig) -> None:
    flags: list[bool] = []
    with trio.fail_after(25):
        async with open_store(store_config) as first, open_store(store_config) as second:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_put_shared_records, first, 1, flags)
                nursery.start_soon(_put_shared_records, second, 2, flags)
            assert len(await first.list_metadata(None, Page())) == 1
            assert len(await first.list_offers(None, Page())) == 1
            assert await first.get_sync_state("cursor") in ("1-9", "2-9")
    assert flags.count(True) == 2  # one metadata, one offer
