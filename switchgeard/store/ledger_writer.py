"""``LedgerWriter``: the invoice ledger's writes, one statement for the callers of a round.

Every LNURL callback records its invoice before it answers. Where the database can take
a statement without waiting (``InlineWrites.run_inline``: SQLite, on the trio thread), the
first caller of a scheduler round leads: it yields once, so that the other callers ready
in that round join its group, then writes its entry and theirs in one statement, itself,
without an await between deciding to write and the commit, so no cancellation can cut
into a statement carrying other callers' entries. A caller alone (the common case: under
a 32-connection load the batches averaged 1.3 entries) thus pays for its statement and
one task switch: starting a drain task and waiting on an event had cost about 40 % more
(in-process, 49 against 70 µs per lone entry on SQLite).

Otherwise callers queue their entries and one drain task writes everything waiting in a
single statement, again and again until the queue is empty: on PostgreSQL (every
statement is a worker-thread round trip), while a SQLite write lock is held (the drain
waits for it in a worker thread), and while a drain runs.

The drain runs as a trio system task, so a caller that is cancelled (a wallet hanging
up) only stops waiting: it never interrupts a statement carrying other callers' entries,
and the store needs no nursery of its own. A caller cancelled before its entry joined a
statement records nothing. Each caller gets its own outcome: ``Conflict`` for a payment
hash recorded before (or twice in one batch); the database error for all of a failed
batch, except that a batch refused by a constraint is written again entry by entry, so
one bad entry cannot fail the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import trio

from switchgeard.errors import Conflict, StoreError, StoreUnavailable
from switchgeard.store import ledger
from switchgeard.store.engine import Database, InlineWrites, T, Tx, WouldWait
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
    """Writes ``record`` calls in one statement per round, or batched by a drain task."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._inline = database if isinstance(database, InlineWrites) else None
        self._group: list[_Waiter] | None = None
        """The entries of this round's callers while their leader yields, first its own."""
        self._queue: list[_Waiter] = []
        self._draining = False
        self.direct = 0
        """Statements leading callers wrote themselves (for tests and statistics)."""
        self.batches = 0
        """Statements the drain wrote (for tests and statistics)."""
        self.drains = 0
        """Drain tasks started (for tests and statistics)."""

    async def record(self, entry: InvoiceEntry) -> None:
        """Write ``entry`` with the callers of this round, or with the drain's next batch;
        raise what writing it raised. ``Cancelled`` means it was not written, unless it
        came while the entry waited in another caller's group or in the drain's queue: it
        is written all the same (a write in flight)."""
        if self._inline is not None and not self._draining:
            if self._group is None:
                await self._lead(self._inline, _Waiter(entry))
                return
            await trio.lowlevel.checkpoint_if_cancelled()
            waiter = _Waiter(entry)
            self._group.append(waiter)
        else:
            await trio.lowlevel.checkpoint_if_cancelled()
            waiter = _Waiter(entry)
            self._enqueue([waiter])
        await _outcome(waiter)

    async def _lead(self, inline: InlineWrites, me: _Waiter) -> None:
        """Gather this round's callers, then write their entries and ``me``'s.

        The one checkpoint of ``record`` comes before the write: its schedule point is what
        lets the others join, and a cancel there leaves nothing half done (``me``'s entry
        is dropped, the others are written). After the commit there is no checkpoint: one
        there would make a cancelled caller get ``Cancelled`` for an entry in the ledger
        (hiding a ``Conflict``), so the caller meets its cancellation at its next one.
        """
        group = self._group = [me]
        gathered = False
        try:
            await trio.lowlevel.checkpoint()
            gathered = True
        finally:
            self._group = None
            self._write_now(inline, group if gathered else group[1:])
        await _outcome(me)

    def _write_now(self, inline: InlineWrites, group: list[_Waiter]) -> None:
        """Write ``group`` inline (``MAX_BATCH`` entries a statement) and finish its waiters;
        once a statement would wait for a lock, it and the rest go to the drain, in order.
        Whatever else goes wrong, no waiter of the group is left waiting."""
        try:
            self._write_in_order(inline, group)
        except BaseException:
            queued = {id(waiter) for waiter in self._queue}
            _strand([waiter for waiter in group if id(waiter) not in queued])
            raise

    def _write_in_order(self, inline: InlineWrites, group: list[_Waiter]) -> None:
        for start in range(0, len(group), MAX_BATCH):
            if self._draining:
                self._enqueue(group[start:])
                return
            self._write_batch_now(inline, group[start : start + MAX_BATCH])

    def _write_batch_now(self, inline: InlineWrites, batch: list[_Waiter]) -> None:
        """One statement; a batch refused by a constraint is written again entry by entry."""
        if len(batch) == 1:  # the statement without RETURNING costs less
            self._write_one_now(inline, batch[0])
            return
        unique = _distinct(batch)
        work = partial(ledger.record_invoices, entries=[w.entry for w in unique])
        try:
            new = self._run_now(inline, work)
        except WouldWait:
            self._enqueue(unique)
        except Conflict:
            for index, waiter in enumerate(unique):
                if self._draining:  # keep the order: the rest follows the queued one
                    self._enqueue(unique[index:])
                    break
                self._write_one_now(inline, waiter)
        except StoreError as exc:
            _fail(unique, exc)
        else:
            _finish(unique, new)

    def _write_one_now(self, inline: InlineWrites, waiter: _Waiter) -> None:
        try:
            self._run_now(inline, partial(ledger.record_invoice, entry=waiter.entry))
        except WouldWait:
            self._enqueue([waiter])
        except StoreError as exc:
            waiter.finish(exc)
        else:
            waiter.finish()

    def _run_now(self, inline: InlineWrites, work: Callable[[Tx], T]) -> T:
        """``inline.run_inline(work)``, counted in ``direct`` unless it would have waited."""
        self.direct += 1
        try:
            return inline.run_inline(work)
        except WouldWait:
            self.direct -= 1
            raise

    def _enqueue(self, waiters: Sequence[_Waiter]) -> None:
        self._queue.extend(waiters)
        if waiters and not self._draining:
            self._draining = True
            self.drains += 1
            trio.lowlevel.spawn_system_task(self._drain, name="switchgeard.store.ledger")

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
            _strand(stranded)

    async def _write(self, batch: Sequence[_Waiter]) -> None:
        unique = _distinct(batch)
        if len(unique) == 1:  # the statement without RETURNING costs less
            await self._write_each(unique)
            return
        work = partial(ledger.record_invoices, entries=[w.entry for w in unique])
        self.batches += 1
        try:
            new = await self._db.run(work, atomic=False, durable=False, inline=True)
        except Conflict:
            await self._write_each(unique)
            return
        except StoreError as exc:
            _fail(unique, exc)
            return
        _finish(unique, new)

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


async def _outcome(waiter: _Waiter) -> None:
    """Wait until ``waiter`` is finished (not at all if it is); raise its error."""
    if not waiter.done.is_set():
        await waiter.done.wait()
    if waiter.error is not None:
        raise waiter.error


def _distinct(batch: Sequence[_Waiter]) -> list[_Waiter]:
    """The waiters of the first entry of each payment hash; the others get ``Conflict``."""
    first: dict[str, _Waiter] = {}
    for waiter in batch:
        key = waiter.entry.payment_hash
        if key in first:
            waiter.finish(_recorded(key))
        else:
            first[key] = waiter
    return list(first.values())


def _finish(waiters: Sequence[_Waiter], new: set[str]) -> None:
    """After a batch: done for the entries it added, ``Conflict`` for those it found."""
    for waiter in waiters:
        key = waiter.entry.payment_hash
        waiter.finish(None if key in new else _recorded(key))


def _fail(waiters: Sequence[_Waiter], exc: StoreError) -> None:
    for waiter in waiters:
        waiter.finish(_copy(exc))


def _strand(waiters: Sequence[_Waiter]) -> None:
    """Finish the waiters still waiting: their entries will not be written."""
    for waiter in waiters:
        if not waiter.done.is_set():
            waiter.finish(StoreUnavailable("the ledger writer stopped"))


def _recorded(payment_hash: str) -> Conflict:
    return Conflict(f"invoice {payment_hash} is recorded already")


def _copy(exc: StoreError) -> StoreError:
    """One exception per waiting caller (an instance raised in several tasks would collect
    all their tracebacks); the batch's error is the cause."""
    error = StoreUnavailable(str(exc))
    error.__cause__ = exc
    return error
