"""A cancelled caller stops its running statement; the store stays usable."""

from __future__ import annotations

import time

import trio

from switchgeard.config.model import StoreConfig
from switchgeard.store import open_database
from switchgeard.store.engine import Tx

ENDLESS_SQLITE = (
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"
)


def _endless(tx: Tx) -> object:
    if tx.dialect.name == "sqlite":
        return tx.row(ENDLESS_SQLITE)
    return tx.row("SELECT pg_sleep(60)")


async def test_cancellation_interrupts_a_long_query(store_config: StoreConfig) -> None:
    async with open_database(store_config) as database:
        started = time.monotonic()
        with trio.move_on_after(0.2) as scope:
            await database.run(_endless, write=False)
        assert scope.cancelled_caught
        assert time.monotonic() - started < 3
        with trio.fail_after(5):
            assert await database.run(lambda tx: tx.row("SELECT 1 + 1"), write=False) == (2,)
