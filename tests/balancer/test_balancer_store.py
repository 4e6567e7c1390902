"""The balancer over the real SQLite store: the store satisfies BackendSource and
InvoiceLedger, admin changes reach the pool, and settlements land in the ledger."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import trio
from balancer_fakes import FakeFleet, backend, issue_coffee, make_config, node_key

from switchgeard.balancer import BackendPool, Balancer, run_balancer
from switchgeard.config.model import Seconds, StoreConfig
from switchgeard.store import Store, open_store
from switchgeard.store.records import BackendPatch
from switchgeard.units import Msat

CFG = dataclasses.replace(make_config(), backend_refresh=Seconds(0.05))


@asynccontextmanager
async def balancer_on_store(tmp_path: Path) -> AsyncIterator[tuple[Balancer, Store, FakeFleet]]:
    fleet = FakeFleet()
    async with open_store(StoreConfig(url=f"sqlite:///{tmp_path / 'store.db'}")) as store:
        for index in (1, 2):
            await store.create_backend(backend(index))
            fleet.add(node_key(index))
        balancer = Balancer(BackendPool(store, fleet.connect), store, CFG)
        async with trio.open_nursery() as nursery:
            await nursery.start(run_balancer, balancer)
            yield balancer, store, fleet
            nursery.cancel_scope.cancel()


async def test_ledger_and_settlement_in_the_store(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with balancer_on_store(tmp_path) as (balancer, store, fleet):
            payment_hash = await issue_coffee(balancer, description_hash_only=False)
            entry = await store.get_invoice(payment_hash)
            assert entry.reference == "address:alice@example.com" and entry.amount_msat == 21_000
            node = fleet.nodes[entry.backend_key]
            foreign = await node.create_invoice(
                Msat(5), "not ours", description_hash_only=False, expiry=60
            )
            node.settle(foreign.payment_hash)  # unknown to the ledger: skipped, no restart
            node.settle(payment_hash)
            started = trio.current_time()
            while (await store.get_invoice(payment_hash)).settled_at is None:
                await trio.sleep(0.01)
            assert trio.current_time() - started < 0.5  # the watcher did not restart
            assert (await store.get_invoice(payment_hash)).preimage == node.preimages[payment_hash]


async def test_admin_changes_reach_the_pool(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with balancer_on_store(tmp_path) as (balancer, store, fleet):
            await store.patch_backend(node_key(2), BackendPatch(weight=0))
            while balancer.statistics()[1].weight != 0:
                await trio.sleep(0.01)
            for _ in range(4):
                entry = await store.get_invoice(
                    await issue_coffee(balancer, description_hash_only=False)
                )
                assert entry.backend_key == node_key(1)
            await store.delete_backend(node_key(2))
            while len(balancer.statistics()) != 1:
                await trio.sleep(0.01)
            while not fleet.closed:  # the removed member saves its settlement cursor first
                await trio.sleep(0.01)
            assert fleet.closed == [(node_key(2), "https://127.0.0.1:10009")]
