"""Store fixtures: every contract test runs on a SQLite file and on PostgreSQL.

PostgreSQL tests use the server named by ``SWITCHGEARD_TEST_POSTGRES`` (CI:
``postgresql://postgres@127.0.0.1:5432/test``); each test gets its own schema, dropped
afterwards. Without the variable they skip with a reason that names postgres.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from store.samples import FakeClock
from switchgeard.config.model import StoreConfig
from switchgeard.store import Store, open_store

POSTGRES_ENV = "SWITCHGEARD_TEST_POSTGRES"
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def postgres_dsn() -> str:
    dsn = os.environ.get(POSTGRES_ENV)
    if not dsn:
        pytest.skip(f"postgres: set {POSTGRES_ENV} to run the PostgreSQL store tests")
    return dsn


@pytest.fixture(scope="session")
def pg_schemas() -> Iterator[list[str]]:
    """Schemas made during the session; dropped together at its end (one commit is faster)."""
    made: list[str] = []
    yield made
    if made:
        with psycopg.connect(postgres_dsn(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {', '.join(made)} CASCADE")


@pytest.fixture
def pg_schema_url(pg_schemas: list[str]) -> str:
    """A store URL for a fresh PostgreSQL schema (``search_path`` set through ``options``)."""
    dsn = postgres_dsn()
    schema = f"sgtest_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    pg_schemas.append(schema)
    separator = "&" if "?" in dsn else "?"
    return f"{dsn}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=ENGINES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
def store_config(store_url: str) -> StoreConfig:
    return StoreConfig(url=store_url, page_default=5, page_max=10, pool_size=2)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(store_config: StoreConfig, clock: FakeClock) -> AsyncIterator[Store]:
    async with open_store(store_config, clock=clock) as opened:
        yield opened
