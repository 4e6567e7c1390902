"""Persistence of backends, offers, metadata, addresses and the invoice ledger.

Owns SQLite (default) and PostgreSQL stores and their migrations. Imports only config,
errors and units; database drivers never leave this package. Consumers declare the narrow
``typing.Protocol`` they need; ``open_store`` hands them a ``Store``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from urllib.parse import urlsplit

from switchgeard.config.model import StoreConfig
from switchgeard.errors import StoreUnavailable
from switchgeard.store.engine import Database
from switchgeard.store.migrate import migrate
from switchgeard.store.sql_store import Clock, SqlStore, utc_now

Store = SqlStore

__all__ = ["Store", "open_database", "open_store"]


@asynccontextmanager
async def open_store(cfg: StoreConfig, *, clock: Clock = utc_now) -> AsyncIterator[Store]:
    """Open the store named by ``cfg.url`` and bring its schema up to date.

    ``sqlite:///abs/path.db`` opens (or creates) a SQLite file; ``postgresql://...`` (or
    ``postgres://...``) a PostgreSQL database with a pool of ``cfg.pool_size`` connections.
    Raises ``StoreUnavailable`` if the database cannot be opened and ``SchemaTooNew`` if it
    was migrated by a newer switchgeard.
    """
    async with open_database(cfg) as database:
        await database.run(partial(migrate, now=clock()))
        yield SqlStore(database, cfg, clock=clock)


@asynccontextmanager
async def open_database(cfg: StoreConfig) -> AsyncIterator[Database]:
    """Open the engine for ``cfg.url`` without migrating (tests and tools use this)."""
    scheme = urlsplit(cfg.url).scheme
    if scheme == "sqlite":
        from switchgeard.store.sqlite import open_sqlite

        async with open_sqlite(sqlite_path(cfg.url)) as database:
            yield database
    elif scheme in ("postgresql", "postgres"):
        from switchgeard.store.postgres import open_postgres

        async with open_postgres(cfg.url, pool_size=cfg.pool_size) as database:
            yield database
    else:
        raise StoreUnavailable(
            f"store.url: unsupported scheme {scheme!r}; use sqlite:///abs/path.db or postgresql://"
        )


def sqlite_path(url: str) -> str:
    """The file path of ``sqlite:///abs/path.db`` (an absolute path is required)."""
    parts = urlsplit(url)
    if parts.netloc or not parts.path.startswith("/") or parts.query or parts.fragment:
        raise StoreUnavailable(f"store.url: expected sqlite:///absolute/path.db, got {url!r}")
    return parts.path
