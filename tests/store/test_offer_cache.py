"""Offer reads from memory: writes through the store are seen at once, others' within the TTL."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import pytest
import trio
import trio.testing

from store import samples
from switchgeard.config.model import StoreConfig
from switchgeard.errors import NotFound
from switchgeard.store import Store, open_database, open_store
from switchgeard.store.cache import ReadCache
from switchgeard.store.engine import Database, Dialect, Tx
from switchgeard.store.migrate import migrate
from switchgeard.store.records import Offer
from switchgeard.store.sql_store import OFFER_CACHE_TTL, SqlStore
from switchgeard.units import Msat

T = TypeVar("T")


@dataclasses.dataclass
class ReadCounter:
    """Counts read transactions; with ``hold`` set, a read's result waits for it."""

    inner: Database
    reads: int = 0
    hold: trio.Event | None = None
    read_done: trio.Event = dataclasses.field(default_factory=trio.Event)

    @property
    def dialect(self) -> Dialect:
        return self.inner.dialect

    async def run(
        self,
        work: Callable[[Tx], T],
        *,
        write: bool = True,
        atomic: bool = True,
        durable: bool = True,
        inline: bool = False,
    ) -> T:
        result = await self.inner.run(
            work, write=write, atomic=atomic, durable=durable, inline=inline
        )
        if not write:
            self.reads += 1
            self.read_done.set()
            if self.hold is not None:
                await self.hold.wait()
        return result


async def _stored_offer(store: Store) -> Offer:
    meta = await store.create_metadata(samples.metadata())
    return await store.create_offer(samples.offer(meta))


async def test_repeated_reads_are_served_from_memory_until_the_ttl(
    store_config: StoreConfig, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_database(store_config) as database:
        await database.run(partial(migrate, now=samples.START))
        counter = ReadCounter(database)
        store = SqlStore(counter, store_config, clock=samples.FakeClock())
        offer = await _stored_offer(store)
        for _ in range(5):
            found, _meta = await store.get_offer_with_metadata("default", offer.id)
            assert found.id == offer.id
        assert counter.reads == 1
        await trio.sleep(OFFER_CACHE_TTL)
        await store.get_offer_with_metadata("default", str(offer.id))
        assert counter.reads == 2


async def test_writes_through_the_store_are_seen_at_once(store: Store) -> None:
    offer = await _stored_offer(store)
    _, meta = await store.get_offer_with_metadata("default", offer.id)
    await store.put_offer(dataclasses.replace(offer, max_sendable=Msat(5000)))
    found, _ = await store.get_offer_with_metadata("default", offer.id)
    assert found.max_sendable == 5000
    await store.put_metadata(dataclasses.replace(meta, text="tea"))
    _, changed = await store.get_offer_with_metadata("default", offer.id)
    assert changed.text == "tea"
    await store.delete_offer("default", offer.id)
    with pytest.raises(NotFound):
        await store.get_offer_with_metadata("default", offer.id)


async def test_another_process_is_seen_within_the_ttl(
    store_config: StoreConfig, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_store(store_config) as ours, open_store(store_config) as theirs:
        offer = await _stored_offer(theirs)
        await ours.get_offer_with_metadata("default", offer.id)  # a miss is never cached
        await theirs.put_offer(dataclasses.replace(offer, max_sendable=Msat(7000)))
        found, _ = await ours.get_offer_with_metadata("default", offer.id)
        assert found.max_sendable == offer.max_sendable  # still the remembered row
        await trio.sleep(OFFER_CACHE_TTL)
        found, _ = await ours.get_offer_with_metadata("default", offer.id)
        assert found.max_sendable == 7000


async def test_a_read_overtaken_by_a_write_is_not_remembered(store_config: StoreConfig) -> None:
    async with open_database(store_config) as database:
        await database.run(partial(migrate, now=samples.START))
        counter = ReadCounter(database)
        store = SqlStore(counter, store_config, clock=samples.FakeClock())
        offer = await _stored_offer(store)
        counter.hold = trio.Event()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(store.get_offer_with_metadata, "default", offer.id)
            with trio.fail_after(10):
                await counter.read_done.wait()  # the old row is read, not yet returned
            await store.put_offer(dataclasses.replace(offer, max_sendable=Msat(9000)))
            counter.hold.set()
        counter.hold = None
        found, _ = await store.get_offer_with_metadata("default", offer.id)
        assert found.max_sendable == 9000


def test_the_cache_is_bounded_oldest_first() -> None:
    async def main() -> None:
        cache: ReadCache[int] = ReadCache(ttl=60, size=2)
        for key in ("a", "b", "c"):
            cache.put(key, ord(key), cache.generation)
        assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, ord("b"), ord("c"))
        stale = cache.generation
        cache.invalidate()
        cache.put("d", 1, stale)
        assert cache.get("b") is None and cache.get("d") is None

    trio.run(main)


async def test_cache_is_bounded_by_weight_as_well_as_entries() -> None:
    cache: ReadCache[bytes] = ReadCache(ttl=60, size=100, weigh=len, max_weight=1000)
    for n in range(10):
        cache.put(n, b"x" * 300, cache.generation)
    entries, weight = cache.statistics()
    assert (entries, weight) == (3, 900)  # the oldest were dropped to stay under 1000
    assert cache.get(9) is not None and cache.get(0) is None
    cache.put("huge", b"x" * 1001, cache.generation)  # heavier than the whole budget
    assert cache.get("huge") is None and cache.statistics() == (3, 900)
    cache.invalidate()
    assert cache.statistics() == (0, 0)


async def test_concurrent_misses_share_one_read(store_config: StoreConfig) -> None:
    async with open_database(store_config) as database:
        await database.run(partial(migrate, now=samples.START))
        counter = ReadCounter(database)
        store = SqlStore(counter, store_config, clock=samples.FakeClock())
        offer = await _stored_offer(store)
        counter.hold = trio.Event()
        found: list[Offer] = []

        async def read() -> None:
            row, _ = await store.get_offer_with_metadata("default", offer.id)
            found.append(row)

        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                for _ in range(20):
                    nursery.start_soon(read)
                await counter.read_done.wait()
                await trio.testing.wait_all_tasks_blocked()
                counter.hold.set()
        assert counter.reads == 1
        assert [row.id for row in found] == [offer.id] * 20


async def test_a_failed_shared_read_is_not_handed_to_the_waiting_callers() -> None:
    cache: ReadCache[str] = ReadCache(ttl=60, size=10)
    release = trio.Event()
    calls: list[str] = []

    async def failing() -> str:
        calls.append("failing")
        await release.wait()
        raise NotFound("gone")

    async def working() -> str:
        calls.append("working")
        return "row"

    async def first() -> None:
        with pytest.raises(NotFound):
            await cache.read_through("k", failing)

    async def second() -> None:
        assert await cache.read_through("k", working) == "row"

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(first)
            await trio.testing.wait_all_tasks_blocked()
            nursery.start_soon(second)
            await trio.testing.wait_all_tasks_blocked()
            assert calls == ["failing"]  # the second caller waits for the first read
            release.set()
    assert calls == ["failing", "working"]
    assert await cache.read_through("k", failing) == "row"  # remembered now
