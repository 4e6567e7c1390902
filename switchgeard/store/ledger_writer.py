"""``LedgerWriter``: group commit for ledger entries.

Every LNURL callback records its invoice before it answers. Written one at a time, each
entry is a worker-thread round trip queued behind the others (SQLite runs one at a time),
and under load that queue, not the database, sets the callback's latency. Here callers
queue their entries and one drain task writes everything waiting in a single statement,
again and again until the queue is empty: concurrent callbacks share a round trip, and a
lone callback still waits for exactly one write.

The drain runs as a trio system task, so a caller that is cancelled (a wallet hanging
up) only stops waiting: it never interrupts a statement carrying other callers' entries,
and the store needs no nursery of its own. Each caller gets its own outcome: ``Conflict``
for a payment hash recorded before (or twice in one batch); the database error for all
of a failed batch, except that a batch refused by a constraint is written again entry by
entry, so one bad entry cannot fail the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import trio

from switchgeard.errors import Conflict, StoreError, StoreUnavailable
from switchgeard.store import ledger
from switchgeard.store.engine import Database
from switchgeard.store.records import InvoiceEntry

MAX_BATCH = 256
"""Entries per statement (9 parameters each: far below either engine's limit)."""


@dataclass(eq=False)
class _Waiter:
    entry: InvoiceEntry
    done: trio.Event = field(default_factory=trio.Event)
    error: StoreError | None = None

    def finish(self, error: StoreError | None = None) -> None:
        self.error = error
        self.done.set()


class LedgerWriter:
    """Batches ``record`` calls into multi-row inserts on ``database``."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._queue: list[_Waiter] = []
        self._draining = False
        self.batches = 0
        """How many statements were written (for tests and statistics)."""

    async def record(self, entry: InvoiceEntry) -> None:
        """Write ``entry`` with the next batch; raise what writing it raised."""
        waiter = _Waiter(entry)
        self._queue.append(waiter)
        if not self._draining:
            self._draining = True
            trio.lowlevel.spawn_system_task(self._drain, name="switchgeard.store.ledger")
        await waiter.done.wait()
        if waiter.error is not None:
            raise waiter.error

    async def _drain(self) -> None:
        batch: list[_Waiter] = []
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._write(batch)
                batch = []
        finally:
            self._draining = False
            stranded, self._queue = [*batch, *self._queue], []
            for waiter in stranded:
                if not waiter.done.is_set():
                    waiter.finish(StoreUnavailable("the ledger writer stopped"))

    async def _write(self, batch: Sequence[_Waiter]) -> None:
        first: dict[str, _Waiter] = {}
        for waiter in batch:
            key = waiter.entry.payment_hash
            if key in first:
                waiter.finish(_recorded(key))
            else:
                first[key] = waiter
        unique = list(first.values())
        work = partial(ledger.record_invoices, entries=[w.entry for w in unique])
        self.batches += 1
        try:
            new = await self._db.run(work, atomic=False, durable=False, inline=True)
        except Conflict:
            await self._write_each(unique)
            return
        except StoreError as exc:
            for waiter in unique:
                waiter.finish(_copy(exc))
            return
        for waiter in unique:
            key = waiter.entry.payment_hash
            waiter.finish(None if key in new else _recorded(key))

    async def _write_each(self, waiters: Sequence[_Waiter]) -> None:
        for waiter in waiters:
            work = partial(ledger.record_invoice, entry=waiter.entry)
            self.batches += 1
            try:
                await self._db.run(work, atomic=False, durable=False, inline=True)
            except StoreError as exc:
                waiter.finish(exc)
            else:
                waiter.finish()


def _recorded(payment_hash: str) -> Conflict:
    return Conflict(f"invoice {payment_hash} is recorded already")


def _copy(exc: StoreError) -> StoreError:
    """One exception per waiting caller (an instance raised in several tasks would collect
    all their tracebacks); the batch's error is the cause."""
    error = StoreUnavailable(str(exc))
    error.__cause__ = exc
    return error
