"""The PostgreSQL engine: synchronous psycopg 3 in worker threads with a small bounded pool.

Connections run in autocommit mode; ``run`` wraps work in ``BEGIN``/``COMMIT`` (READ
COMMITTED). Races between daemons are settled by the database: upserts, row locks, and the
backend-set version row that every backend mutation updates first. A cancelled caller sends
a cancel request for its running statement; a connection that ends up broken or inside a
transaction is closed instead of being returned to the pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from functools import partial

import psycopg
import psycopg.errors
import trio
from psycopg.pq import TransactionStatus

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

CONNECT_TIMEOUT = 10
_DIALECT = Dialect("postgresql")
_RETRIES = 3


class PostgresTx:
    """``Tx`` over a psycopg connection; ``?`` placeholders become ``%s``."""

    def __init__(self, conn: psycopg.Connection[Row]) -> None:
        self._conn = conn

    @property
    def dialect(self) -> Dialect:
        return _DIALECT

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        with translate_pg_errors(), self._conn.cursor() as cur:
            cur.execute(_adapt(sql), params)
            return cur.rowcount

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        with translate_pg_errors(), self._conn.cursor() as cur:
            cur.execute(_adapt(sql), params)
            return cur.fetchall()

    def row(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        with translate_pg_errors(), self._conn.cursor() as cur:
            cur.execute(_adapt(sql), params)
            return cur.fetchone()


class PostgresDatabase:
    """A bounded pool of connections to one PostgreSQL database. Use through ``open_postgres``."""

    def __init__(self, conninfo: str, size: int) -> None:
        self._conninfo = conninfo
        self._limiter = trio.CapacityLimiter(size)
        self._idle: list[psycopg.Connection[Row]] = []

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
        """Run ``work``; retried (up to 3 times) when PostgreSQL reports a deadlock.

        ``inline`` is ignored (every statement is a network round trip: always a worker
        thread). ``durable`` is ignored: every commit is flushed (``synchronous_commit`` as the
        server configures it); concurrent commits share a flush (group commit), and
        switching it per transaction would cost the ledger write extra round trips.
        """
        for attempt in range(1, _RETRIES + 1):
            try:
                return await self._run_once(work, atomic=atomic)
            except TransientFailure:
                if attempt == _RETRIES:
                    raise
        raise AssertionError("unreachable")

    async def _run_once(self, work: Callable[[Tx], T], *, atomic: bool) -> T:
        async with self._limiter:
            conn = self._idle.pop() if self._idle else await trio.to_thread.run_sync(self._connect)
            try:
                job = partial(_transact, conn, work, atomic=atomic)
                return await run_interruptible(job, partial(_cancel, conn))
            finally:
                self._release(conn)

    def _connect(self) -> psycopg.Connection[Row]:
        try:
            return psycopg.connect(
                self._conninfo,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT,
                application_name="switchgeard",
            )
        except psycopg.Error as exc:
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc

    def _release(self, conn: psycopg.Connection[Row]) -> None:
        healthy = not conn.closed and not conn.broken
        if healthy and conn.info.transaction_status == TransactionStatus.IDLE:
            self._idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


@asynccontextmanager
async def open_postgres(conninfo: str, *, pool_size: int) -> AsyncIterator[PostgresDatabase]:
    """Open a pool of at most ``pool_size`` connections (made on demand) to ``conninfo``."""
    database = PostgresDatabase(conninfo, pool_size)
    try:
        yield database
    finally:
        database.close()


class TransientFailure(StoreUnavailable):
    """A deadlock or serialization failure: the transaction was rolled back; try again."""


def _transact(conn: psycopg.Connection[Row], work: Callable[[Tx], T], *, atomic: bool) -> T:
    tx = PostgresTx(conn)
    if not atomic:
        return work(tx)
    with translate_pg_errors(), conn.transaction():
        return work(tx)


def _cancel(conn: psycopg.Connection[Row]) -> None:
    """Ask the server to cancel the running statement, from a throwaway thread."""
    trio.lowlevel.start_thread_soon(partial(conn.cancel_safe, timeout=5), lambda _: None)


def _adapt(sql: str) -> str:
    return sql.replace("?", "%s")


@contextmanager
def translate_pg_errors() -> Iterator[None]:
    """Re-raise psycopg exceptions as store errors (constraint kinds kept apart)."""
    try:
        yield
    except psycopg.errors.IntegrityError as exc:
        kind: Violation = "check"
        if isinstance(exc, psycopg.errors.ForeignKeyViolation):
            kind = "foreign_key"
        elif isinstance(exc, psycopg.errors.UniqueViolation):
            kind = "unique"
        raise ConstraintViolation(kind, f"constraint failed: {exc}") from exc
    except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
        raise TransientFailure(f"PostgreSQL: {exc}") from exc
    except psycopg.errors.QueryCanceled as exc:
        raise StoreUnavailable("PostgreSQL statement cancelled") from exc
    except psycopg.Error as exc:
        raise StoreUnavailable(f"PostgreSQL: {exc}") from exc
