"""Ledger writes: the callers of a scheduler round share one statement, written by the
first of them (inline engines) or by the drain task; one outcome per caller."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import pytest
import trio
import trio.testing

from store import samples
from switchgeard.config.model import StoreConfig
from switchgeard.errors import Conflict, NotFound, StoreError, StoreUnavailable
from switchgeard.store import Store, ledger, open_database
from switchgeard.store.engine import (
    ConstraintViolation,
    Database,
    Dialect,
    InlineWrites,
    Tx,
    WouldWait,
)
from switchgeard.store.migrate import migrate
from switchgeard.store.records import InvoiceEntry
from switchgeard.store.sql_store import SqlStore

T = TypeVar("T")
BAD = "offer:bad/refused"


@dataclasses.dataclass
class Refusing:
    """Fails multi-entry statements: all of them (``fail``), or those holding a ``BAD``
    entry with a constraint violation, which a single ``BAD`` entry also gets."""

    inner: Database
    fail: StoreError | None = None

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
        self.refuse(work)
        return await self.inner.run(
            work, write=write, atomic=atomic, durable=durable, inline=inline
        )

    def refuse(self, work: Callable[[Tx], object]) -> None:
        if isinstance(work, partial) and work.func in (
            ledger.record_invoices,
            ledger.record_invoice,
        ):
            entries = work.keywords.get("entries") or [work.keywords["entry"]]
            if self.fail is not None:
                raise self.fail
            if any(entry.reference == BAD for entry in entries):
                raise ConstraintViolation("check", "constraint failed: reference")


class RefusingInline(Refusing):
    """``Refusing`` that also writes inline, where the engine it wraps can."""

    def run_inline(self, work: Callable[[Tx], T]) -> T:
        if not isinstance(self.inner, InlineWrites):
            raise WouldWait
        self.refuse(work)
        return self.inner.run_inline(work)


def _refusing(database: Database, inline: bool, fail: StoreError | None = None) -> Refusing:
    return RefusingInline(database, fail) if inline else Refusing(database, fail)


async def _outcomes(store: SqlStore | Store, entries: list[InvoiceEntry]) -> list[str]:
    """Record ``entries`` concurrently; each caller's result as text."""
    results = [""] * len(entries)

    async def one(index: int) -> None:
        try:
            await store.record_invoice(entries[index])
        except StoreError as exc:
            results[index] = type(exc).__name__
        else:
            results[index] = "ok"

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            for index in range(len(entries)):
                nursery.start_soon(one, index)
    return results


async def _store(config: StoreConfig, database: Database) -> SqlStore:
    await database.run(partial(migrate, now=samples.START))
    return SqlStore(database, config, clock=samples.FakeClock())


def _inline(store: Store) -> bool:
    """Whether the store's engine writes ledger entries inline (SQLite, not PostgreSQL)."""
    return store.dialect.name == "sqlite"


async def test_concurrent_entries_share_statements(store: Store) -> None:
    entries = [samples.invoice(seed) for seed in range(1, 101)]
    assert await _outcomes(store, entries) == ["ok"] * 100
    writer = store.ledger_writer
    assert writer.direct + writer.batches == 1  # all came in one round: one statement
    assert writer.drains == (0 if _inline(store) else 1)
    for entry in entries:
        assert await store.get_invoice(entry.payment_hash) == entry


async def test_a_round_larger_than_a_batch_takes_more_statements(store: Store) -> None:
    entries = [samples.invoice(seed) for seed in range(1, 301)]
    assert await _outcomes(store, entries) == ["ok"] * 300
    assert store.ledger_writer.direct + store.ledger_writer.batches == 2  # 256 + 44
    for entry in entries[::50]:
        assert await store.get_invoice(entry.payment_hash) == entry


async def test_a_lone_caller_writes_its_entry_itself(store: Store) -> None:
    for seed in range(1, 6):
        with trio.testing.assert_checkpoints():
            await store.record_invoice(samples.invoice(seed))
    writer = store.ledger_writer
    if _inline(store):  # no drain task, no event: the caller's own statement
        assert (writer.direct, writer.drains, writer.batches) == (5, 0, 0)
    else:
        assert (writer.direct, writer.drains, writer.batches) == (0, 5, 5)
    for seed in range(1, 6):
        assert await store.get_invoice(samples.invoice(seed).payment_hash) == samples.invoice(seed)


async def test_a_lone_caller_gets_conflict_for_a_known_hash(store: Store) -> None:
    await store.record_invoice(samples.invoice(1))
    with pytest.raises(Conflict, match="recorded already"):
        await store.record_invoice(samples.invoice(1, bolt11="lnbc1other"))
    assert (await store.get_invoice(samples.invoice(1).payment_hash)).bolt11 == "lnbc1n1fake"
    assert store.ledger_writer.drains == (0 if _inline(store) else 2)


async def test_repeated_and_known_hashes_conflict_per_caller(store: Store) -> None:
    await store.record_invoice(samples.invoice(1))
    entries = [samples.invoice(2), samples.invoice(1), samples.invoice(3), samples.invoice(2)]
    first, known, other, again = await _outcomes(store, entries)
    assert (known, other) == ("Conflict", "ok")
    assert sorted([first, again]) == ["Conflict", "ok"]  # whichever queued first wins


@pytest.mark.parametrize("inline", [False, True], ids=["drained", "inline"])
async def test_a_failed_batch_fails_each_caller_with_its_own_error(
    store_config: StoreConfig, inline: bool
) -> None:
    async with open_database(store_config) as database:
        refusing = _refusing(database, inline, fail=StoreUnavailable("disk on fire"))
        store = await _store(store_config, refusing)
        raised: list[BaseException] = []

        async def one(seed: int) -> None:
            with pytest.raises(StoreUnavailable, match="disk on fire") as caught:
                await store.record_invoice(samples.invoice(seed))
            raised.append(caught.value)

        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                for seed in range(1, 6):
                    nursery.start_soon(one, seed)
        assert len({id(exc) for exc in raised}) == 5


@pytest.mark.parametrize("inline", [False, True], ids=["drained", "inline"])
async def test_a_refused_entry_does_not_fail_the_others(
    store_config: StoreConfig, inline: bool
) -> None:
    async with open_database(store_config) as database:
        store = await _store(store_config, _refusing(database, inline))
        await store.record_invoice(samples.invoice(9))
        entries = [
            samples.invoice(1),
            samples.invoice(2, reference=BAD),
            samples.invoice(3),
            samples.invoice(4),
        ]
        assert await _outcomes(store, entries) == ["ok", "ConstraintViolation", "ok", "ok"]
        with pytest.raises(Conflict):
            await store.record_invoice(samples.invoice(1))
        with pytest.raises(NotFound):
            await store.get_invoice(samples.invoice(2).payment_hash)


async def test_a_cancelled_caller_records_nothing_and_disturbs_no_one(store: Store) -> None:
    entries = [samples.invoice(seed) for seed in range(1, 11)]
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            for entry in entries[1:]:
                nursery.start_soon(store.record_invoice, entry)
            with trio.CancelScope() as scope:
                scope.cancel()  # gives up at once, before anything is written
                await store.record_invoice(entries[0])
    for entry in entries[1:]:
        assert await store.get_invoice(entry.payment_hash) == entry
    with pytest.raises(NotFound):
        await store.get_invoice(entries[0].payment_hash)
    await store.record_invoice(entries[0])  # it was never recorded: no Conflict now


async def test_callers_cancelled_while_in_a_group_lose_no_other_entry(store: Store) -> None:
    """One caller's scope is cancelled in the round its group gathers: leading, it writes
    the others' entries and not its own; following, it records nothing, or, cancelled while
    its entry waits, the entry is written all the same. Another is cancelled while its
    entry waits. The tasks of a round run in varying orders, so the turns take every way."""
    for turn in range(40):
        entries = [samples.invoice(turn * 10 + n) for n in range(1, 7)]
        outcomes = await _cancel_two(store, entries)
        assert {1, 2, 3, 4} <= outcomes.keys()
        for entry in entries[1:]:
            assert await store.get_invoice(entry.payment_hash) == entry
        try:
            assert await store.get_invoice(entries[0].payment_hash) == entries[0]
        except NotFound:
            assert 0 not in outcomes
            await store.record_invoice(entries[0])  # never recorded: no Conflict now


async def _cancel_two(store: Store, entries: list[InvoiceEntry]) -> dict[int, str]:
    """Record ``entries`` in one round; cancel the first caller in that round, and the last
    once every caller waits. Which callers returned normally."""
    scopes = [trio.CancelScope() for _ in entries]
    outcomes: dict[int, str] = {}

    async def record(index: int) -> None:
        with scopes[index]:
            await store.record_invoice(entries[index])
            outcomes[index] = "ok"

    async def cancel_the_first() -> None:
        scopes[0].cancel()

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            for index in range(len(entries)):
                nursery.start_soon(record, index)
            nursery.start_soon(cancel_the_first)
            await trio.testing.wait_all_tasks_blocked()
            scopes[-1].cancel()  # waiting for its group's statement or the drain's
    return outcomes


class ExplodingInline(RefusingInline):
    """An inline write that fails with something no store error stands for (sqlite3
    raises ``OverflowError`` for an integer too large to bind, for one)."""

    def run_inline(self, work: Callable[[Tx], T]) -> T:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")


async def test_an_unexpected_inline_failure_leaves_no_caller_waiting(tmp_path: Path) -> None:
    config = StoreConfig(url=f"sqlite:///{tmp_path / 'ledger.db'}")  # inline writes: SQLite
    async with open_database(config) as database:
        store = await _store(config, ExplodingInline(database))
        outcomes: list[str] = []

        async def one(seed: int) -> None:
            try:
                await store.record_invoice(samples.invoice(seed))
            except OverflowError:
                outcomes.append("overflow")
            except StoreUnavailable:
                outcomes.append("unavailable")

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                for seed in range(1, 6):
                    nursery.start_soon(one, seed)
    assert sorted(outcomes) == ["overflow"] + ["unavailable"] * 4
