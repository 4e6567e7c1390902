"""``ReadCache``: recent read results, dropped whenever this process writes what they read.

The LNURL routes read the same offer and its metadata on every request; without a cache
each read is a worker-thread round trip queued with the ledger writes. Entries live for
``ttl`` seconds (trio clock) at most, which bounds how long a change made by *another*
process (a second daemon on the same PostgreSQL database) can go unseen; a change made
through this store is seen at once, because every such write calls ``invalidate``.

A read that was in flight while a write invalidated the cache is not stored (the
generation counter tells), so a stale row never outlives the write that replaced it.
Only found rows are cached: a miss stays a database read, and probing random ids
cannot fill the cache, which is bounded by ``size`` entries and, with ``weigh``, by
``max_weight`` (e.g. bytes of images), oldest dropped first.

``read_through`` lets concurrent misses of one key share a single read: when an entry
expires under load, every request in flight would otherwise queue its own worker-thread
round trip behind the others (and behind the ledger writes), stalling them all at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

import trio

V = TypeVar("V")


class ReadCache(Generic[V]):
    """A bounded, time-limited map from read keys to results, invalidated as a whole."""

    def __init__(
        self,
        *,
        ttl: float,
        size: int,
        weigh: Callable[[V], int] | None = None,
        max_weight: int = 0,
    ) -> None:
        self._ttl = ttl
        self._size = size
        self._weigh = weigh
        self._max_weight = max_weight
        self._weight = 0
        self._entries: dict[Hashable, tuple[float, V, int]] = {}
        self._reading: dict[Hashable, trio.Event] = {}
        self.generation = 0
        """Changes on every ``invalidate``; take it before a read, pass it to ``put``."""

    def get(self, key: Hashable) -> V | None:
        """The cached result for ``key``, or None when absent or older than ``ttl``."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, value, _ = entry
        if trio.current_time() - stored_at >= self._ttl:
            self._drop(key)
            return None
        return value

    async def read_through(self, key: Hashable, read: Callable[[], Awaitable[V]]) -> V:
        """The cached result for ``key``, else ``await read()`` (remembered as ``put`` would).

        While one caller reads a key, others asking for it wait for that read and take its
        remembered result; if it remembered nothing (it failed, was cancelled, found
        nothing or was overtaken by a write), each of them reads for itself, so no caller
        ever gets another caller's error or a row older than its own request.
        """
        while (cached := self.get(key)) is None and (pending := self._reading.get(key)) is not None:
            await pending.wait()
        if cached is not None:
            return cached
        done = self._reading[key] = trio.Event()
        try:
            generation = self.generation
            value = await read()
            self.put(key, value, generation)
            return value
        finally:
            del self._reading[key]
            done.set()

    def put(self, key: Hashable, value: V, generation: int) -> None:
        """Store ``value`` read under ``generation``, unless a write invalidated it since."""
        if generation != self.generation or self._ttl <= 0:
            return
        weight = 0 if self._weigh is None else self._weigh(value)
        if self._weigh is not None and weight > self._max_weight:
            return
        self._drop(key)
        while self._entries and (
            len(self._entries) >= self._size or self._weight + weight > self._max_weight > 0
        ):
            self._drop(next(iter(self._entries)))
        self._entries[key] = (trio.current_time(), value, weight)
        self._weight += weight

    def invalidate(self) -> None:
        """Forget every entry (and any read still in flight)."""
        self._entries.clear()
        self._weight = 0
        self.generation += 1

    def statistics(self) -> tuple[int, int]:
        """(entries, total weight) held now."""
        return len(self._entries), self._weight

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._weight -= entry[2]
