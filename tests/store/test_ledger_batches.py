"""Group commit of ledger entries: shared statements, one outcome per caller."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import pytest
import trio

from store import samples
from switchgeard.config.model import StoreConfig
from switchgeard.errors import Conflict, StoreError, StoreUnavailable
from switchgeard.store import Store, ledger, open_database
from switchgeard.store.engine import ConstraintViolation, Database, Dialect, Tx
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
        if isinstance(work, partial) and work.func in (
            ledger.record_invoices,
            ledger.record_invoice,
        ):
            entries = work.keywords.get("entries") or [work.keywords["entry"]]
            if self.fail is not None:
                raise self.fail
            if any(entry.reference == BAD for entry in entries):
                raise ConstraintViolation("check", "constraint failed: reference")
        return await self.inner.run(
            work, write=write, atomic=atomic, durable=durable, inline=inline
        )


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


async def test_concurrent_entries_share_statements(store: Store) -> None:
    entries = [samples.invoice(seed) for seed in range(1, 101)]
    assert await _outcomes(store, entries) == ["ok"] * 100
    assert store.ledger_writer.batches <= 3  # the first alone, then the rest together
    for entry in entries:
        assert await store.get_invoice(entry.payment_hash) == entry


async def test_repeated_and_known_hashes_conflict_per_caller(store: Store) -> None:
    await store.record_invoice(samples.invoice(1))
    entries = [samples.invoice(2), samples.invoice(1), samples.invoice(3), samples.invoice(2)]
    first, known, other, again = await _outcomes(store, entries)
    assert (known, other) == ("Conflict", "ok")
    assert sorted([first, again]) == ["Conflict", "ok"]  # whichever queued first wins


async def test_a_failed_batch_fails_each_caller_with_its_own_error(
    store_config: StoreConfig,
) -> None:
    async with open_database(store_config) as database:
        refusing = Refusing(database, fail=StoreUnavailable("disk on fire"))
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


async def test_a_refused_entry_does_not_fail_the_others(store_config: StoreConfig) -> None:
    async with open_database(store_config) as database:
        store = await _store(store_config, Refusing(database))
        await store.record_invoice(samples.invoice(9))  # so the next ones queue together
        entries = [samples.invoice(1), samples.invoice(2, reference=BAD), samples.invoice(3)]
        assert await _outcomes(store, entries) == ["ok", "ConstraintViolation", "ok"]
        with pytest.raises(Conflict):
            await store.record_invoice(samples.invoice(1))


async def test_a_cancelled_caller_does_not_disturb_the_batch(store: Store) -> None:
    entries = [samples.invoice(seed) for seed in range(1, 11)]
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            for entry in entries[1:]:
                nursery.start_soon(store.record_invoice, entry)
            with trio.CancelScope() as scope:
                scope.cancel()  # gives up at once, while its entry is queued
                await store.record_invoice(entries[0])
    for entry in entries:  # the given-up entry was written too, as a write in flight may be
        assert await store.get_invoice(entry.payment_hash) == entry
