"""Opening stores: bad URLs and unreachable databases, and the ledger's single round trip."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

import pytest

from store import samples
from switchgeard.config.model import StoreConfig
from switchgeard.errors import StoreUnavailable
from switchgeard.store import open_database, open_store
from switchgeard.store.engine import Database, Dialect, Row, Tx
from switchgeard.store.migrate import migrate
from switchgeard.store.sql_store import SqlStore

T = TypeVar("T")


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/missing-dir/store.db",
        "sqlite://relative/store.db",
        "sqlite:///{tmp}/store.db?mode=ro",
        "mysql://localhost/db",
        "postgresql://postgres@127.0.0.1:1/test?connect_timeout=2",
    ],
)
async def test_unopenable_stores_raise_store_unavailable(tmp_path: Path, url: str) -> None:
    config = StoreConfig(url=url.format(tmp=tmp_path))
    with pytest.raises(StoreUnavailable, match=r"store\.url|SQLite|PostgreSQL"):
        async with open_store(config):
            pass  # pragma: no cover - opening must fail


class CountingTx:
    def __init__(self, inner: Tx, statements: list[str]) -> None:
        self._inner = inner
        self._statements = statements

    @property
    def dialect(self) -> Dialect:
        return self._inner.dialect

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        self._statements.append(sql)
        return self._inner.execute(sql, params)

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        self._statements.append(sql)
        return self._inner.rows(sql, params)

    def row(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        self._statements.append(sql)
        return self._inner.row(sql, params)


@dataclasses.dataclass
class CountingDatabase:
    """Records, per ``run``, whether it was a transaction and how many statements it sent."""

    inner: Database
    calls: list[tuple[bool, int]] = dataclasses.field(default_factory=list)
    durable: list[bool] = dataclasses.field(default_factory=list)

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
        statements: list[str] = []
        result = await self.inner.run(
            lambda tx: work(CountingTx(tx, statements)),
            write=write,
            atomic=atomic,
            durable=durable,
            inline=inline,
        )
        self.calls.append((atomic, len(statements)))
        self.durable.append(durable)
        return result


async def test_recording_an_invoice_is_one_autocommit_statement(store_config: StoreConfig) -> None:
    async with open_database(store_config) as database:
        await database.run(partial(migrate, now=samples.START))
        counting = CountingDatabase(database)
        store = SqlStore(counting, store_config, clock=samples.FakeClock())
        await store.record_invoice(samples.invoice(1))
        assert counting.calls == [(False, 1)]
        assert counting.durable == [False]
        assert (await store.get_invoice(samples.invoice(1).payment_hash)).bolt11 == "lnbc1n1fake"


async def test_sqlite_flushes_every_commit_except_ledger_entries(tmp_path: Path) -> None:
    config = StoreConfig(url=f"sqlite:///{tmp_path}/sync.db")
    async with open_database(config) as database:
        await database.run(partial(migrate, now=samples.START))
        store = SqlStore(database, config, clock=samples.FakeClock())

        def pragma(tx: Tx) -> int:
            row = tx.row("PRAGMA synchronous")
            assert row is not None
            return int(row[0])

        async def synchronous() -> int:
            return await database.run(pragma, write=False)

        full, normal = 2, 1
        assert await synchronous() == full
        # ledger entries go inline, on the connection that commits without an fsync
        await store.record_invoice(samples.invoice(1))
        assert await database.run(pragma, atomic=False, durable=False, inline=True) == normal
        assert await synchronous() == full
        # a non-durable write on the worker connection switches it for that write only
        await database.run(lambda tx: tx.execute("SELECT 1"), atomic=False, durable=False)
        assert await synchronous() == normal
        await store.get_invoice(samples.invoice(1).payment_hash)  # reads leave it alone
        assert await synchronous() == normal
        await store.set_sync_state("cursor", "1")
        assert await synchronous() == full
        await store.record_invoice(samples.invoice(2))
        await store.mark_settled(
            samples.invoice(2).payment_hash, samples.preimage(2), samples.START
        )
        assert await synchronous() == full
