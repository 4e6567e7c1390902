"""Settlement watching over the real adapters (fake LND and CLN over TLS gRPC) and the real
SQLite store: nothing is lost while a stream is down or the balancer is stopped, and a
restart resumes behind the cursor saved in the store."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio
from balancer_fakes import issue_coffee, make_config

from switchgeard.balancer import BackendPool, Balancer, run_balancer
from switchgeard.balancer.settlements import cursor_name
from switchgeard.config.model import LightningConfig, Seconds, StoreConfig
from switchgeard.daemon.demo import fake_backend
from switchgeard.daemon.wiring import connect_factory
from switchgeard.lightning import open_bridge
from switchgeard.store import Store, open_store
from switchgeard.testing.fake_cln import FakeCln, serve_fake_cln
from switchgeard.testing.fake_lnd import FakeLnd, serve_fake_lnd
from switchgeard.units import NodeKey, PaymentHash

pytestmark = pytest.mark.deadline(60)

CFG = dataclasses.replace(make_config(), backend_refresh=Seconds(0.1))
LIGHTNING = LightningConfig(network="regtest", call_timeout=Seconds(2.0))


@asynccontextmanager
async def balancer_on(store: Store) -> AsyncIterator[Balancer]:
    """A balancer over ``store``'s backends, as the daemon runs it; stopped on exit."""
    pool = BackendPool(store, connect_factory(lambda: LIGHTNING))
    balancer = Balancer(pool, store, CFG)
    async with trio.open_nursery() as nursery:
        await nursery.start(run_balancer, balancer)
        yield balancer
        nursery.cancel_scope.cancel()


async def wait_settled(store: Store, payment_hash: PaymentHash) -> None:
    while (await store.get_invoice(payment_hash)).settled_at is None:
        await trio.sleep(0.02)


async def wait_for(condition: Callable[[], bool]) -> None:
    while not condition():
        await trio.sleep(0.02)


def store_config(tmp_path: Path) -> StoreConfig:
    return StoreConfig(url=f"sqlite:///{tmp_path / 'store.db'}")


@asynccontextmanager
async def fake_nodes(tmp_path: Path) -> AsyncIterator[tuple[FakeLnd, FakeCln]]:
    async with open_bridge(), trio.open_nursery() as nursery:
        lnd = await nursery.start(serve_fake_lnd, tmp_path / "lnd")
        cln = await nursery.start(serve_fake_cln, tmp_path / "cln")
        yield lnd, cln
        nursery.cancel_scope.cancel()


async def test_lnd_settlement_while_the_stream_is_down_without_a_cursor(tmp_path: Path) -> None:
    async with fake_nodes(tmp_path) as (lnd, _), open_store(store_config(tmp_path)) as store:
        await store.put_backend(fake_backend(lnd, "lnd"))
        with trio.fail_after(30):
            async with balancer_on(store) as balancer:
                payment_hash = await issue_coffee(balancer)
                await wait_for(lambda: lnd.core.watched_after == [0])
                await lnd.go_down()
                assert lnd.settle(payment_hash)  # lnd replays nothing behind index 0
                await trio.sleep(0.5)
                await lnd.come_up()
                await wait_settled(store, payment_hash)
                (status,) = balancer.statistics()
                assert status.invoices_settled == 1
            assert set(lnd.core.watched_after) == {0}
            assert await store.get_sync_state(cursor_name(NodeKey(lnd.pubkey))) is None


async def test_cln_restart_resumes_behind_the_saved_cursor(tmp_path: Path) -> None:
    async with fake_nodes(tmp_path) as (_, cln):
        cursor = cursor_name(NodeKey(cln.pubkey))
        with trio.fail_after(30):
            async with open_store(store_config(tmp_path)) as store:
                await store.put_backend(fake_backend(cln, "cln"))
                async with balancer_on(store) as balancer:
                    first, missed = await issue_coffee(balancer), await issue_coffee(balancer)
                    assert cln.settle(first)
                    await wait_settled(store, first)
                assert await store.get_sync_state(cursor) == "1"  # saved on the way out
            assert cln.settle(missed)  # while no balancer runs
            calls_before = len(cln.core.watched_after)
            async with open_store(store_config(tmp_path)) as store:  # the daemon restarts
                async with balancer_on(store) as balancer:
                    await wait_settled(store, missed)
                    await wait_for(lambda: cln.core.watched_after[-1] == 2)  # streamed too
                    (status,) = balancer.statistics()
                    assert status.invoices_settled == 1
                assert await store.get_sync_state(cursor) == "2"
    assert cln.core.watched_after[calls_before] == 1  # no replay from pay index 0
    assert 0 not in cln.core.watched_after[calls_before:]


async def test_replayed_and_reconciled_settlements_count_once(tmp_path: Path) -> None:
    """No cursor yet: CLN replays every settlement while reconciliation looks the same
    invoices up; each is recorded and counted once."""
    async with fake_nodes(tmp_path) as (_, cln), open_store(store_config(tmp_path)) as store:
        await store.put_backend(fake_backend(cln, "cln"))
        with trio.fail_after(30):
            async with balancer_on(store) as balancer:
                hashes = [await issue_coffee(balancer) for _ in range(5)]
            for payment_hash in hashes:
                assert cln.settle(payment_hash)  # while the balancer is stopped
            async with balancer_on(store) as balancer:
                for payment_hash in hashes:
                    await wait_settled(store, payment_hash)
                await wait_for(lambda: cln.core.watched_after[-1] == 5)  # replay done
                await trio.sleep(0.2)
                (status,) = balancer.statistics()
            (stats,) = (await store.invoice_stats()).values()
    assert status.invoices_settled == 5 == stats.settled
