"""The unsettled-entries index (migration 0003): the engines plan the store's own query
through it, and the query's answers over a long history are those the rules give (and so
are the statistics, which scan the ledger since migration 0004 dropped the by-backend
index)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from store import samples
from switchgeard.config.model import StoreConfig
from switchgeard.store import ledger, open_database, open_store
from switchgeard.store.engine import Dialect, Row, Tx
from switchgeard.store.records import InvoiceEntry, InvoiceStats
from switchgeard.units import Msat, NodeKey

INDEX = "invoice_unsettled_by_expiry"
HISTORY = 5_000
"""Ledger entries in these tests: enough for PostgreSQL's statistics to make a sequential
scan the costlier plan (the index wins from about 2,000)."""
STEP = timedelta(seconds=30)
GRACE = timedelta(hours=1)  # what the settlement watcher subtracts from now


@dataclass
class RecordingTx:
    """A ``Tx`` that runs everything on ``inner`` and keeps the queries it was given."""

    inner: Tx
    queries: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)

    @property
    def dialect(self) -> Dialect:
        return self.inner.dialect

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        self.queries.append((sql, tuple(params)))
        return self.inner.execute(sql, params)

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        self.queries.append((sql, tuple(params)))
        return self.inner.rows(sql, params)

    def row(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        self.queries.append((sql, tuple(params)))
        return self.inner.row(sql, params)


def history() -> list[InvoiceEntry]:
    """``HISTORY`` entries, four every 30 s over two backends (so pairs of one backend share
    a creation time), ten minutes to expiry, two in three settled."""
    entries = []
    for seed in range(1, HISTORY + 1):
        created = samples.START + STEP * (seed // 4)
        settled = {"settled_at": created, "preimage": samples.preimage(seed)} if seed % 3 else {}
        entries.append(
            samples.invoice(
                seed,
                1 + seed % 2,
                created_at=created,
                expires_at=created + timedelta(minutes=10),
                **settled,
            )
        )
    return entries


def expected(
    entries: list[InvoiceEntry], backend: NodeKey, expires_after: datetime, limit: int
) -> list[InvoiceEntry]:
    """What ``unsettled_invoices`` must answer, computed without SQL."""
    matching = [
        entry
        for entry in entries
        if entry.backend_key == backend
        and entry.settled_at is None
        and entry.expires_at > expires_after
    ]
    by_hash = sorted(matching, key=lambda entry: entry.payment_hash)
    return sorted(by_hash, key=lambda entry: entry.created_at, reverse=True)[:limit]


async def record(store_config: StoreConfig, entries: list[InvoiceEntry]) -> None:
    async with open_database(store_config) as database:
        for start in range(0, len(entries), 1000):
            await database.run(
                partial(ledger.record_invoices, entries=entries[start : start + 1000])
            )


def plan_of_store_query(tx: Tx, explain: str, expires_after: datetime) -> list[str]:
    """The engine's plan for exactly the statement ``unsettled_invoices`` runs."""
    recording = RecordingTx(tx)
    ledger.unsettled_invoices(recording, samples.node_key(1), expires_after, 500)
    [(sql, params)] = recording.queries
    return [str(row[-1]) for row in tx.rows(f"{explain} {sql}", params)]


def expected_stats(entries: list[InvoiceEntry]) -> dict[NodeKey, InvoiceStats]:
    """What ``invoice_stats`` must answer, computed without SQL."""
    stats = {}
    for backend in {entry.backend_key for entry in entries}:
        issued = [entry for entry in entries if entry.backend_key == backend]
        settled = [entry for entry in issued if entry.settled_at is not None]
        stats[backend] = InvoiceStats(
            issued=len(issued),
            settled=len(settled),
            settled_msat=Msat(sum(entry.amount_msat for entry in settled)),
        )
    return stats


def now_after(entries: list[InvoiceEntry]) -> datetime:
    return max(entry.created_at for entry in entries) + STEP


async def test_store_answers_over_a_long_history_follow_the_rules(
    store_config: StoreConfig,
) -> None:
    entries = history()
    async with open_store(store_config):
        pass  # migrated
    await record(store_config, entries)
    now = now_after(entries)
    async with open_store(store_config) as store:
        for backend in (samples.node_key(1), samples.node_key(2)):
            for after, limit in [(now - GRACE, 500), (now - GRACE, 7), (now - 3 * GRACE, 100)]:
                found = await store.unsettled_invoices(backend, expires_after=after, limit=limit)
                assert found == expected(entries, backend, after, limit)
                assert found  # the cases are not vacuous
            last = max(entry.expires_at for entry in entries)
            assert await store.unsettled_invoices(backend, expires_after=last, limit=500) == []
        assert await store.invoice_stats() == expected_stats(entries)


async def test_sqlite_plans_the_store_query_as_a_search_of_the_index(tmp_path: Path) -> None:
    """The query reads only index entries of its backend expiring after its bound (no scan
    of the table, nor of the backend's whole history); what remains to sort is the matching
    rows, which the ``LIMIT`` then cuts."""
    config = StoreConfig(url=f"sqlite:///{tmp_path}/store.db")
    entries = history()
    async with open_store(config):
        pass
    await record(config, entries)
    async with open_database(config) as database:
        plan = await database.run(
            partial(
                plan_of_store_query,
                explain="EXPLAIN QUERY PLAN",
                expires_after=now_after(entries) - GRACE,
            )
        )
    reads = [step for step in plan if "invoice" in step]
    assert reads == [f"SEARCH invoice USING INDEX {INDEX} (backend_key=? AND expires_at>?)"]
    assert set(plan) - set(reads) <= {"USE TEMP B-TREE FOR ORDER BY"}


@pytest.mark.postgres
async def test_postgres_plans_the_store_query_through_the_index(pg_schema_url: str) -> None:
    """With statistics of a long history (``ANALYZE``), PostgreSQL chooses the partial index
    for the store's statement and bounds it by both backend and expiry."""
    config = StoreConfig(url=pg_schema_url, pool_size=1)
    entries = history()
    async with open_store(config):
        pass
    await record(config, entries)
    async with open_database(config) as database:
        await database.run(lambda tx: tx.execute("ANALYZE invoice"), atomic=False)
        plan = await database.run(
            partial(
                plan_of_store_query,
                explain="EXPLAIN",
                expires_after=now_after(entries) - GRACE,
            )
        )
    text = "\n".join(plan)
    assert re.search(rf"(Index Scan using|Bitmap Index Scan on) {INDEX}\b", text), text
    [condition] = [line.strip() for line in plan if "Index Cond:" in line]
    assert "backend_key = " in condition and "expires_at > " in condition, text
    assert "Seq Scan" not in text, text
