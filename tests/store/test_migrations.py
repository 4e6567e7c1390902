"""Schema migrations: upgrade with data intact, refusal of newer schemas, packaging."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import partial

import pytest

from store import samples
from switchgeard.config.model import StoreConfig
from switchgeard.errors import SchemaTooNew
from switchgeard.store import ledger, open_database, open_store
from switchgeard.store.engine import Tx
from switchgeard.store.migrate import known_migrations, latest_version, migrate
from switchgeard.store.records import InvoiceEntry, InvoiceStats, Page
from switchgeard.units import Msat

META_ID = uuid.UUID("88deff7e-6a0c-4a0e-9d3b-8d7c3f6e5a21")
OFFER_ID = uuid.UUID("6a38ebdd-3f3a-4ad4-8b44-d6aa2f4dc6b1")
UNSETTLED_INDEX = "invoice_unsettled_by_expiry"
BY_BACKEND_INDEX = "invoice_by_backend"
IMPLEMENTATION = (
    '{"ampInvoice":false,"auth":{"macaroonPath":"/m","tlsCertPath":null,"type":"path"},'
    '"domain":null,"type":"lndGrpc","url":"https://127.0.0.1:10009"}'
)


def _fill_version_1(tx: Tx) -> None:
    """Rows as a switchgeard that knew only migration 1 would have written them."""
    at = tx.dialect.to_db_time(samples.START)
    tx.execute(
        "INSERT INTO backend (public_key, name, partitions, weight, enabled, implementation,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (samples.node_key(1), "old", '["default"]', 3, True, IMPLEMENTATION, at, at),
    )
    tx.execute("UPDATE backend_set_version SET value = 7 WHERE id = 1")
    tx.execute(
        "INSERT INTO offer_metadata (partition, id, text, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?)",
        ("default", str(META_ID), "old text", at, at),
    )
    tx.execute(
        "INSERT INTO offer (partition, id, min_sendable, max_sendable, metadata_id, not_before,"
        " expires, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ("default", str(OFFER_ID), 1000, 2000, str(META_ID), at, None, at, at),
    )


def _entries_of_version_2() -> list[InvoiceEntry]:
    """Backend 1: one entry expiring early, three unsettled, one settled; backend 2: one."""
    minute = timedelta(minutes=1)
    late = samples.START + 30 * minute
    return [
        samples.invoice(
            1, created_at=samples.START + minute, expires_at=samples.START + 5 * minute
        ),
        *(
            samples.invoice(seed, created_at=samples.START + seed * minute, expires_at=late)
            for seed in (2, 3, 4)
        ),
        samples.invoice(
            5, expires_at=late, settled_at=samples.START + minute, preimage=samples.preimage(5)
        ),
        samples.invoice(6, 2, expires_at=late),
    ]


def _index_definition(tx: Tx, name: str) -> str | None:
    if tx.dialect.name == "sqlite":
        row = tx.row("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,))
    else:
        row = tx.row(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ?",
            (name,),
        )
    return None if row is None else " ".join(str(row[0]).split())


def _index_names(tx: Tx, table: str) -> set[str]:
    if tx.dialect.name == "sqlite":
        rows = tx.rows(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,)
        )
    else:
        rows = tx.rows(
            "SELECT indexname FROM pg_indexes"
            " WHERE schemaname = current_schema() AND tablename = ?",
            (table,),
        )
    return {str(name) for (name,) in rows}


def test_packaged_migrations_are_numbered_and_split() -> None:
    migrations = known_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert latest_version() >= 4
    assert all(m.sql.strip() for m in migrations)


async def test_database_at_migration_1_upgrades_with_data_intact(
    store_config: StoreConfig,
) -> None:
    async with open_database(store_config) as database:
        assert await database.run(partial(migrate, now=samples.START, target=1)) == [1]
        await database.run(_fill_version_1)
    async with open_store(store_config, clock=samples.FakeClock()) as store:
        backend = await store.get_backend(samples.node_key(1))
        assert (backend.name, backend.weight, backend.created_at) == ("old", 3, samples.START)
        assert await store.backend_version() == 7
        offer, meta = await store.get_offer_with_metadata("default", OFFER_ID)
        assert (offer.comment_allowed, offer.max_sendable, meta.text) == (0, 2000, "old text")
        await store.record_invoice(samples.invoice(1))
        await store.create_address(samples.address())
        assert len(await store.list_addresses(Page())) == 1
    async with open_database(store_config) as database:
        assert await database.run(partial(migrate, now=samples.START)) == []
        rows = await database.run(lambda tx: tx.rows("SELECT version FROM schema_migrations"))
        assert sorted(v for (v,) in rows) == list(range(1, latest_version() + 1))


async def test_newer_schema_refuses_to_open(store_config: StoreConfig) -> None:
    async with open_store(store_config) as store:
        await store.create_backend(samples.backend(1))
    future = latest_version() + 1
    async with open_database(store_config) as database:
        await database.run(
            lambda tx: tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (future, "from_the_future", tx.dialect.to_db_time(samples.START)),
            )
        )
    with pytest.raises(SchemaTooNew, match=f"version {future}.*upgrade switchgeard"):
        async with open_store(store_config):
            pass  # pragma: no cover - opening must fail


async def test_database_at_migration_2_gains_the_unsettled_index_with_entries_intact(
    store_config: StoreConfig,
) -> None:
    entries = _entries_of_version_2()
    async with open_database(store_config) as database:
        assert await database.run(partial(migrate, now=samples.START, target=2)) == [1, 2]
        assert await database.run(partial(ledger.record_invoices, entries=entries)) == {
            entry.payment_hash for entry in entries
        }
        assert await database.run(partial(_index_definition, name=UNSETTLED_INDEX)) is None
        assert await database.run(partial(migrate, now=samples.START, target=3)) == [3]
        definition = await database.run(partial(_index_definition, name=UNSETTLED_INDEX))
    assert definition is not None
    assert "(backend_key, expires_at)" in definition
    assert definition.replace("(", "").replace(")", "").endswith("WHERE settled_at IS NULL")
    async with open_store(store_config) as store:
        after = samples.START + 10 * timedelta(minutes=1)
        found = await store.unsettled_invoices(samples.node_key(1), expires_after=after, limit=10)
        assert found == [entries[3], entries[2], entries[1]]
        assert await store.get_invoice(entries[4].payment_hash) == entries[4]
        assert await store.mark_settled(entries[2].payment_hash, samples.preimage(3), after)
        found = await store.unsettled_invoices(samples.node_key(1), expires_after=after, limit=10)
        assert found == [entries[3], entries[1]]


async def test_database_at_migration_3_drops_the_by_backend_index_with_answers_intact(
    store_config: StoreConfig,
) -> None:
    entries = _entries_of_version_2()
    after = samples.START + 10 * timedelta(minutes=1)
    async with open_database(store_config) as database:
        assert await database.run(partial(migrate, now=samples.START, target=3)) == [1, 2, 3]
        await database.run(partial(ledger.record_invoices, entries=entries))
        assert await database.run(partial(_index_definition, name=BY_BACKEND_INDEX)) is not None
        stats = await database.run(ledger.invoice_stats)
        assert await database.run(partial(migrate, now=samples.START)) == [4]
        assert await database.run(partial(_index_definition, name=BY_BACKEND_INDEX)) is None
        assert await database.run(ledger.invoice_stats) == stats
    assert stats == {
        samples.node_key(1): InvoiceStats(issued=5, settled=1, settled_msat=Msat(5000)),
        samples.node_key(2): InvoiceStats(issued=1, settled=0, settled_msat=Msat(0)),
    }
    async with open_store(store_config) as store:
        found = await store.unsettled_invoices(samples.node_key(1), expires_after=after, limit=10)
        assert found == [entries[3], entries[2], entries[1]]
        assert await store.invoice_stats() == stats
        await store.record_invoice(samples.invoice(7, 2))
        assert (await store.invoice_stats())[samples.node_key(2)].issued == 2


async def test_fresh_database_indexes_the_ledger_only_for_its_queries(
    store_config: StoreConfig,
) -> None:
    """Every index on ``invoice`` costs each LNURL callback's insert: the primary key
    (lookups and settlements) and the unsettled index (reconciliation) are all it has."""
    async with open_store(store_config):
        pass
    async with open_database(store_config) as database:
        definition = await database.run(partial(_index_definition, name=UNSETTLED_INDEX))
        indexes = await database.run(partial(_index_names, table="invoice"))
        primary = {"sqlite": "sqlite_autoindex_invoice_1", "postgresql": "invoice_pkey"}
    assert definition is not None and "WHERE" in definition and "settled_at IS NULL" in definition
    assert indexes == {primary[database.dialect.name], UNSETTLED_INDEX}
