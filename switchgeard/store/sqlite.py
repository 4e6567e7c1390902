"""The SQLite engine: stdlib sqlite3 in worker threads, plus inline ledger writes.

One connection (``check_same_thread=False``) serialised by a ``CapacityLimiter(1)``; WAL
journal with ``synchronous=FULL`` so an acknowledged write survives a crash, except writes
run with ``durable=False`` (the invoice ledger), which commit with ``synchronous=NORMAL``:
no fsync per commit, so they survive a crash of the process but the last ones may be lost
on power loss, until the next durable commit or checkpoint flushes the WAL. Autocommit
mode (``isolation_level=None``) with explicit ``BEGIN IMMEDIATE``/``COMMIT``, each
transaction inside one thread call; a cancelled caller interrupts the running statement.

``inline`` writes (one non-durable statement: the ledger's insert, on every LNURL
callback; ``run_inline`` runs one without an await) run on the calling trio thread, on a
second connection that never waits: no busy timeout (a write lock held by the worker
connection or another process sends the write to the worker thread instead, which waits
for it as usual) and no automatic checkpoint (a checkpoint fsyncs the database file).
Handing each batch to a worker thread cost more than the statement itself, and under load
the thread waited for the GIL. The checkpoints the inline connection skips are run by
``run_checkpointer`` on the worker connection, in its thread.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from functools import partial

import trio

from switchgeard.errors import StoreError, StoreUnavailable
from switchgeard.store.engine import (
    ConstraintViolation,
    Dialect,
    Row,
    T,
    Tx,
    Violation,
    WouldWait,
    run_interruptible,
)

BUSY_TIMEOUT = 10.0
"""Seconds to wait for another process's write lock before giving up."""

log = logging.getLogger("switchgeard.store")

CHECKPOINT_INTERVAL = 1.0
"""Seconds between checkpoints of what inline writes added to the WAL (when they wrote)."""

_BUSY = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED: primary codes (extended ones add high bits)

_FOREIGN_KEY = 787
_UNIQUE = (1555, 2067)
_DIALECT = Dialect("sqlite")


class SqliteTx:
    """``Tx`` over a sqlite3 connection (already using ``?`` placeholders).

    Each statement translates errors with a plain ``try`` (``store_error``): entering and
    leaving ``translate_sqlite_errors`` cost 0.9 µs a statement, the ``try`` a tenth.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @property
    def dialect(self) -> Dialect:
        return _DIALECT

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        try:
            return self._conn.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            raise store_error(exc) from exc

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise store_error(exc) from exc

    def row(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        try:
            found: Row | None = self._conn.execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise store_error(exc) from exc
        return found


class SqliteDatabase:
    """An open SQLite database. Use through ``open_sqlite``."""

    def __init__(self, conn: sqlite3.Connection, inline: sqlite3.Connection | None = None) -> None:
        self._conn = conn
        self._inline = inline
        self._limiter = trio.CapacityLimiter(1)
        self._durable = True
        """Whether the connection is in ``synchronous=FULL`` (as ``_connect`` leaves it)."""
        self.inline_writes = 0
        """Inline writes since the last checkpoint (and the statistic tests look at)."""
        self.inline_busy = 0
        """Inline writes that found the database locked and went to the worker thread."""
        self._wrote = trio.Event()
        """Set by an inline write: the checkpointer sleeps only when it has work coming."""
        self._checkpointer = trio.CancelScope()

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
        inline: bool = False,
    ) -> T:
        if inline and self._inline is not None and write and not atomic and not durable:
            try:
                return self.run_inline(work)
            except WouldWait:
                self.inline_busy += 1
        async with self._limiter:
            job = partial(self._transact, work, write=write, atomic=atomic, durable=durable)
            return await run_interruptible(job, self._conn.interrupt)

    def run_inline(self, work: Callable[[Tx], T]) -> T:
        """One autocommit statement on the calling thread, on the inline connection;
        ``WouldWait`` if the database is locked (or closed). See ``InlineWrites``."""
        conn = self._inline
        if conn is None:
            raise WouldWait
        try:
            result = work(SqliteTx(conn))
        except StoreUnavailable as exc:
            cause = exc.__cause__
            if isinstance(cause, sqlite3.OperationalError) and (
                (getattr(cause, "sqlite_errorcode", 0) & 0xFF) in _BUSY
            ):
                raise WouldWait from exc
            raise
        self.inline_writes += 1
        self._wrote.set()
        return result

    async def checkpoint(self) -> None:
        """Copy what inline writes added to the WAL into the database (PASSIVE: never
        waits for readers or writers), on the worker connection, in its thread."""
        written = self.inline_writes
        if written:
            await self.run(_passive_checkpoint, write=False, atomic=False)
            self.inline_writes -= written  # those written meanwhile wait for the next one

    async def run_checkpointer(
        self,
        interval: float = CHECKPOINT_INTERVAL,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Checkpoint ``interval`` seconds after inline writes, again and again while they
        go on (no timer while there are none); a failed checkpoint is retried the same way
        (the WAL only grows meanwhile). ``open_sqlite`` runs it (``start_checkpointer``)."""
        task_status.started()
        while True:
            await self._wrote.wait()
            await trio.sleep(interval)
            self._wrote = trio.Event()
            try:
                await self.checkpoint()
            except StoreError as exc:
                log.warning("SQLite checkpoint failed (retried in %gs): %s", interval, exc)
                self._wrote.set()

    def start_checkpointer(self) -> None:
        """Run ``run_checkpointer`` until ``close``, as a trio system task: not in a nursery
        of ``open_sqlite``, which would wrap every error of the caller's block in an
        ExceptionGroup."""

        async def run_until_closed() -> None:
            with self._checkpointer:
                await self.run_checkpointer()

        trio.lowlevel.spawn_system_task(run_until_closed, name="switchgeard.store.checkpointer")

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
        self._checkpointer.cancel()
        async with self._limiter:
            if self._inline is not None:
                self._inline.close()
                self._inline = None
            await trio.to_thread.run_sync(self._conn.close)


def _passive_checkpoint(tx: Tx) -> None:
    tx.rows("PRAGMA wal_checkpoint(PASSIVE)")


@asynccontextmanager
async def open_sqlite(path: str) -> AsyncIterator[SqliteDatabase]:
    """Open (creating if needed) the database file at the absolute ``path``, with its
    checkpointer task for inline writes."""
    conn = await trio.to_thread.run_sync(_connect, path)
    try:
        inline = await trio.to_thread.run_sync(_connect_inline, path)
    except StoreUnavailable:
        conn.close()
        raise
    database = SqliteDatabase(conn, inline)
    database.start_checkpointer()
    try:
        yield database
    finally:
        with trio.CancelScope(shield=True):
            with suppress(StoreUnavailable):
                await database.checkpoint()
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


def _connect_inline(path: str) -> sqlite3.Connection:
    """The connection for inline writes: never waits for a lock, never checkpoints, and
    commits without an fsync (only non-durable writes use it)."""
    conn = _connect(path)
    try:
        with translate_sqlite_errors():
            conn.execute("PRAGMA busy_timeout=0")
            conn.execute("PRAGMA wal_autocheckpoint=0")
            conn.execute("PRAGMA synchronous=NORMAL")
    except StoreUnavailable:
        conn.close()
        raise
    return conn


@contextmanager
def translate_sqlite_errors() -> Iterator[None]:
    """Re-raise sqlite3 exceptions as store errors (``store_error``)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise store_error(exc) from exc


def store_error(exc: sqlite3.Error) -> StoreError:
    """The store error for a sqlite3 exception (constraint kinds kept apart)."""
    if isinstance(exc, sqlite3.IntegrityError):
        code = getattr(exc, "sqlite_errorcode", None)
        kind: Violation = "check"
        if code == _FOREIGN_KEY:
            kind = "foreign_key"
        elif code in _UNIQUE:
            kind = "unique"
        return ConstraintViolation(kind, f"constraint failed: {exc}")
    if isinstance(exc, sqlite3.OperationalError) and str(exc) == "interrupted":
        return StoreUnavailable("SQLite statement interrupted (cancelled)")
    return StoreUnavailable(f"SQLite: {exc}")
