"""SQLite inline ledger writes: on the trio thread when free (by a caller itself, for the
callers of its round), the worker thread when locked, and checkpoints by the checkpointer
instead of the inline connection."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import pytest
import trio

from store import samples
from switchgeard.config.model import StoreConfig
from switchgeard.errors import StoreError
from switchgeard.store import ledger, open_database
from switchgeard.store.engine import WouldWait
from switchgeard.store.migrate import migrate
from switchgeard.store.sql_store import SqlStore
from switchgeard.store.sqlite import SqliteDatabase, store_error


def _size(path: str) -> int:
    """The database file's size (the WAL beside it is not counted)."""
    return os.stat(path).st_size


@asynccontextmanager
async def _migrated(tmp_path: Path) -> AsyncIterator[tuple[SqliteDatabase, StoreConfig, str]]:
    """A migrated SQLite database in ``tmp_path``, its config and its file's path."""
    path = str(tmp_path / "inline.db")
    config = StoreConfig(url=f"sqlite:///{path}")
    async with open_database(config) as database:
        assert isinstance(database, SqliteDatabase)
        await database.run(partial(migrate, now=samples.START))
        yield database, config, path


async def test_ledger_entries_are_written_on_the_trio_thread(tmp_path: Path) -> None:
    async with _migrated(tmp_path) as (database, config, _path):
        store = SqlStore(database, config, clock=samples.FakeClock())
        threads: set[int] = set()

        def where(tx: object) -> None:
            threads.add(threading.get_ident())

        await database.run(where, atomic=False, durable=False, inline=True)
        for seed in range(1, 6):
            await store.record_invoice(samples.invoice(seed))
        assert threads == {threading.get_ident()}
        assert database.inline_writes >= 5 and database.inline_busy == 0
        for seed in range(1, 6):
            entry = await store.get_invoice(samples.invoice(seed).payment_hash)
            assert entry.amount_msat == samples.invoice(seed).amount_msat


async def test_a_held_write_lock_sends_the_entry_to_the_worker_thread(tmp_path: Path) -> None:
    async with _migrated(tmp_path) as (database, config, path):
        store = SqlStore(database, config, clock=samples.FakeClock())
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process's writer, say
        recorded = trio.Event()

        async def record() -> None:
            await store.record_invoice(samples.invoice(7))
            recorded.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(record)
            with trio.fail_after(5):
                while database.inline_busy == 0:
                    await trio.sleep(0.01)
            await trio.sleep(0.2)
            assert not recorded.is_set()  # waiting for the lock in the worker thread
            other.execute("COMMIT")
            with trio.fail_after(5):
                await recorded.wait()
        other.close()
        assert database.inline_busy == 1
        entry = await store.get_invoice(samples.invoice(7).payment_hash)
        assert entry.bolt11 == samples.invoice(7).bolt11


async def test_an_entry_is_committed_when_record_returns(tmp_path: Path) -> None:
    async with _migrated(tmp_path) as (database, config, path):
        store = SqlStore(database, config, clock=samples.FakeClock())
        reader = sqlite3.connect(path, isolation_level=None)
        for seed in range(1, 4):
            entry = samples.invoice(seed)
            await store.record_invoice(entry)
            found = reader.execute(
                "SELECT bolt11 FROM invoice WHERE payment_hash = ?", (entry.payment_hash,)
            ).fetchall()
            assert found == [(entry.bolt11,)]
        reader.close()
        assert store.ledger_writer.direct == 3 and store.ledger_writer.drains == 0
        assert database.inline_writes >= 3  # the checkpointer has them to copy


async def test_a_locked_database_loses_no_entry_of_a_cancelled_caller(tmp_path: Path) -> None:
    """Locked, the callers' group goes to the drain; callers cancelled while their entry
    waits only stop waiting: every entry of the batch is written once the lock is free."""
    async with _migrated(tmp_path) as (database, config, path):
        store = SqlStore(database, config, clock=samples.FakeClock())
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process's writer, say
        entries = [samples.invoice(seed) for seed in range(1, 6)]
        scopes = [trio.CancelScope() for _ in entries]
        outcomes: dict[int, str] = {}

        async def record(index: int) -> None:
            with scopes[index]:
                try:
                    await store.record_invoice(entries[index])
                except StoreError as exc:
                    outcomes[index] = type(exc).__name__
                else:
                    outcomes[index] = "ok"

        async with trio.open_nursery() as nursery:
            for index in range(len(entries)):
                nursery.start_soon(record, index)
            with trio.fail_after(5):
                while database.inline_busy == 0:  # the batch waits in the worker thread
                    await trio.sleep(0.01)
            scopes[0].cancel()
            scopes[3].cancel()
            await trio.sleep(0.05)
            other.execute("COMMIT")
        other.close()
        assert outcomes == {1: "ok", 2: "ok", 4: "ok"}
        writer = store.ledger_writer
        assert (writer.direct, writer.drains, writer.batches) == (0, 1, 1)
        for entry in entries:
            assert await store.get_invoice(entry.payment_hash) == entry


async def test_inline_writes_leave_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    async with _migrated(tmp_path) as (database, _config, path):
        await database.checkpoint()
        await database.run(
            lambda tx: tx.rows("PRAGMA wal_checkpoint(TRUNCATE)"), write=False, atomic=False
        )
        size = _size(path)
        # far past the 1000-page automatic checkpoint of an ordinary connection
        for batch in range(40):
            entries = [
                samples.invoice(batch * 200 + n, bolt11="lnbc1" + "q" * 2000) for n in range(1, 201)
            ]
            work = partial(ledger.record_invoices, entries=entries)
            await database.run(work, atomic=False, durable=False, inline=True)
        assert database.inline_writes == 40
        assert _size(path) == size  # everything is still in the WAL only
        await database.checkpoint()
        assert database.inline_writes == 0
        assert _size(path) > size + 8_000_000


async def test_the_checkpointer_runs_while_inline_writes_happen(tmp_path: Path) -> None:
    async with _migrated(tmp_path) as (database, _config, path):
        size = _size(path)
        async with trio.open_nursery() as nursery:
            await nursery.start(partial(database.run_checkpointer, 0.05))
            entries = [samples.invoice(n, bolt11="lnbc1" + "q" * 2000) for n in range(1, 201)]
            await database.run(
                partial(ledger.record_invoices, entries=entries),
                atomic=False,
                durable=False,
                inline=True,
            )
            with trio.fail_after(5):
                while database.inline_writes:
                    await trio.sleep(0.01)
            nursery.cancel_scope.cancel()
        assert _size(path) > size + 400_000


async def test_extended_busy_codes_send_the_write_to_the_worker(tmp_path: Path) -> None:
    """sqlite3 reports extended result codes (SQLITE_BUSY_SNAPSHOT is 517, 5 + 2 << 8);
    any busy or locked variant means "would wait", not a failed write."""

    def busy(code: int, tx: object) -> None:
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorcode = code  # type: ignore[attr-defined]
        raise store_error(error) from error

    async with _migrated(tmp_path) as (database, _config, _path):
        for code in (5, 6, 261, 517, 262):
            with pytest.raises(WouldWait):
                database.run_inline(partial(busy, code))
        with pytest.raises(StoreError):
            database.run_inline(partial(busy, 1))  # SQLITE_ERROR: a failure, not a wait
