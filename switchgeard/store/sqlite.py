"""The SQLite engine: stdlib sqlite3 in worker threads.

One connection (``check_same_thread=False``) serialised by a ``CapacityLimiter(1)``; WAL
journal with ``synchronous=FULL`` so an acknowledged write survives a crash, except writes
run with ``durable=False`` (the invoice ledger), which commit with ``synchronous=NORMAL``:
no fsync per commit, so they survive a crash of the process but the last ones may be lost
on power loss, until the next durable commit or checkpoint flushes the WAL. Autocommit
mode (``isolation_level=None``) with explicit ``BEGIN IMMEDIATE``/``COMMIT``, each
transaction inside one thread call; a cancelled caller interrupts the running statement.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from functools import partial

import trio

from switchgeard.errors import StoreUnavailable
from switchgeard.store.engine import (
    ConstraintViolation,
    Dialect,
    Row,
    T,
    Tx,
    Violation,
    run_interruptible,
)

BUSY_TIMEOUT = 10.0
"""Seconds to wait for another process's write lock before giving up."""

_FOREIGN_KEY = 787
_UNIQUE = (1555, 2067)
_DIALECT = Dialect("sqlite")


class SqliteTx:
    """``Tx`` over a sqlite3 connection (already using ``?`` placeholders)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @property
    def dialect(self) -> Dialect:
        return _DIALECT

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        with translate_sqlite_errors():
            return self._conn.execute(sql, params).rowcount

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        with translate_sqlite_errors():
            return self._conn.execute(sql, params).fetchall()

    def row(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        with translate_sqlite_errors():
            found: Row | None = self._conn.execute(sql, params).fetchone()
            return found


class SqliteDatabase:
    """An open SQLite database. Use through ``open_sqlite``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._limiter = trio.CapacityLimiter(1)
        self._durable = True
        """Whether the connection is in ``synchronous=FULL`` (as ``_connect`` leaves it)."""

    @property
    def dialect(self) -> Dialect:
        return _DIALECT

    async def run(
        self,
        work: Callable[[Tx], T],
        *,
        write: bool = True,
        atomic: bool = True,
        durable: bool = True,
    ) -> T:
        async with self._limiter:
            job = partial(self._transact, work, write=write, atomic=atomic, durable=durable)
            return await run_interruptible(job, self._conn.interrupt)

    def _transact(self, work: Callable[[Tx], T], *, write: bool, atomic: bool, durable: bool) -> T:
        tx = SqliteTx(self._conn)
        if write:
            self._set_durable(tx, durable)
        if not atomic:
            return work(tx)
        tx.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        committed = False
        try:
            result = work(tx)
            tx.execute("COMMIT")
            committed = True
            return result
        finally:
            if not committed and self._conn.in_transaction:
                # The error that got us here is the one to report; a failed rollback is not.
                with suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")

    def _set_durable(self, tx: SqliteTx, durable: bool) -> None:
        """Switch ``synchronous`` between FULL and NORMAL, outside any transaction.

        Only writes switch it (a read commits nothing); the flag changes only after the
        pragma succeeded, so an interrupted switch is retried by the next write.
        """
        if durable != self._durable:
            tx.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=NORMAL")
            self._durable = durable

    async def close(self) -> None:
        async with self._limiter:
            await trio.to_thread.run_sync(self._conn.close)


@asynccontextmanager
async def open_sqlite(path: str) -> AsyncIterator[SqliteDatabase]:
    """Open (creating if needed) the database file at the absolute ``path``."""
    conn = await trio.to_thread.run_sync(_connect, path)
    database = SqliteDatabase(conn)
    try:
        yield database
    finally:
        with trio.CancelScope(shield=True):
            await database.close()


def _connect(path: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot open SQLite database {path}: {exc}") from exc
    try:
        with translate_sqlite_errors():
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
        if mode is None or str(mode[0]).lower() != "wal":
            raise StoreUnavailable(f"SQLite database {path} refused WAL mode (got {mode})")
    except StoreUnavailable:
        conn.close()
        raise
    return conn


@contextmanager
def translate_sqlite_errors() -> Iterator[None]:
    """Re-raise sqlite3 exceptions as store errors (constraint kinds kept apart)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        kind: Violation = "check"
        if code == _FOREIGN_KEY:
            kind = "foreign_key"
        elif code in _UNIQUE:
            kind = "unique"
        raise ConstraintViolation(kind, f"constraint failed: {exc}") from exc
    except sqlite3.OperationalError as exc:
        if str(exc) == "interrupted":
            raise StoreUnavailable("SQLite statement interrupted (cancelled)") from exc
        raise StoreUnavailable(f"SQLite: {exc}") from exc
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"SQLite: {exc}") from exc
