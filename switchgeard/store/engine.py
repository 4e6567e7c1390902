"""What the SQL stores share: the dialect, the transaction handle and interruptible calls.

Store operations are synchronous functions of a ``Tx``; an engine (``sqlite.py``,
``postgres.py``) runs each one inside a single worker-thread call, in one transaction, and
translates driver exceptions into ``switchgeard.errors`` (constraint violations become
``ConstraintViolation`` so operations can name the field involved).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

import outcome
import trio

from switchgeard.errors import Conflict, StoreUnavailable

T = TypeVar("T")
Row = tuple[Any, ...]
Violation = Literal["unique", "foreign_key", "check"]

_SQLITE_TIME = "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ"
"""SQLite's timestamp text: ``isoformat(timespec="microseconds")`` of the UTC time plus
``Z``, fixed width so text order is time order (formatted directly: half the cost of
``isoformat``, on every ledger insert)."""


class ConstraintViolation(Conflict):
    """A statement broke a table constraint. ``kind`` says which sort."""

    def __init__(self, kind: Violation, message: str) -> None:
        self.kind = kind
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Dialect:
    """The differences between the engines, kept in one place.

    SQLite stores timestamps as fixed-width UTC text (so text order is time order) and has
    no native boolean; PostgreSQL uses ``timestamptz`` and ``boolean``.
    """

    name: Literal["sqlite", "postgresql"]

    @property
    def ddl_types(self) -> dict[str, str]:
        """Replacements for the ``{{timestamp}}`` and ``{{bytes}}`` markers in migrations."""
        if self.name == "sqlite":
            return {"timestamp": "TEXT", "bytes": "BLOB"}
        return {"timestamp": "TIMESTAMPTZ", "bytes": "BYTEA"}

    def to_db_time(self, value: datetime) -> object:
        utc = value.astimezone(UTC)
        if self.name == "postgresql":
            return utc
        return _SQLITE_TIME % (
            utc.year,
            utc.month,
            utc.day,
            utc.hour,
            utc.minute,
            utc.second,
            utc.microsecond,
        )

    def from_db_time(self, value: object) -> datetime:
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        if isinstance(value, str) and value.endswith("Z"):
            return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
        raise StoreUnavailable(f"unexpected timestamp value in the database: {value!r}")

    def optional_time(self, value: object) -> datetime | None:
        return None if value is None else self.from_db_time(value)


class Tx(Protocol):
    """A connection inside one transaction (or one autocommit statement).

    SQL uses ``?`` placeholders; engines adapt them. Driver errors come out translated.
    """

    @property
    def dialect(self) -> Dialect: ...

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run a statement; return the number of rows it changed."""
        ...

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]: ...

    def row(self, sql: str, params: Sequence[object] = ()) -> Row | None: ...


class Database(Protocol):
    """An open engine that runs synchronous work in a worker thread."""

    @property
    def dialect(self) -> Dialect: ...

    async def run(
        self,
        work: Callable[[Tx], T],
        *,
        write: bool = True,
        atomic: bool = True,
        durable: bool = True,
        inline: bool = False,
    ) -> T:
        """Run ``work`` in one transaction (``atomic``) or in autocommit mode (one statement).

        ``write`` takes the write lock up front (SQLite ``BEGIN IMMEDIATE``). A write with
        ``durable=False`` may return before its commit reaches the disk: it survives a
        crash of the process but not necessarily a power loss or kernel crash (SQLite
        ``synchronous=NORMAL``; PostgreSQL commits are always flushed).

        ``inline`` marks a short non-durable write of exactly one statement that an engine
        may run on the calling thread when it can do so without waiting (SQLite, on a
        connection of its own that never waits for a lock); otherwise, and on engines that
        cannot, it runs as any other call.
        """
        ...


class WouldWait(Exception):
    """``run_inline`` would have had to wait (a lock held, the engine closed): nothing was
    written; run the work with ``Database.run`` instead."""


@runtime_checkable
class InlineWrites(Protocol):
    """An engine that can run a short write on the calling thread, without an await.

    Optional (SQLite has it, PostgreSQL does not): a caller finds it with ``isinstance``.
    """

    def run_inline(self, work: Callable[[Tx], T]) -> T:
        """Run ``work``, a short non-durable write of exactly one autocommit statement, now,
        on the calling thread: committed when it returns. Raise ``WouldWait`` instead of
        waiting for anything, having written nothing; other errors as ``Database.run``.
        """
        ...


async def run_interruptible(work: Callable[[], T], interrupt: Callable[[], None]) -> T:
    """Run blocking ``work`` in a worker thread; on cancellation call ``interrupt``.

    The thread is always waited for (the connection stays ours until it returns), and the
    caller's cancellation is re-raised afterwards.
    """
    finished = False

    async def watchdog() -> None:
        try:
            await trio.sleep_forever()
        finally:
            if not finished:
                interrupt()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(watchdog)
        result = await trio.to_thread.run_sync(outcome.capture, work)
        finished = True
        nursery.cancel_scope.cancel()
    return result.unwrap()
