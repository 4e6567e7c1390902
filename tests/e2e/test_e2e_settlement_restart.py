"""Settlements survive a daemon restart: the real daemon (store, balancer, both adapters)
is stopped, invoices on fake LND and CLN settle meanwhile, and the restarted daemon records
them, resuming each node's watch behind the cursor it saved (no replay from index 0)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import bolt11
import httpx
import pytest
import trio
from e2e_world import OFFER_PATH

from switchgeard.balancer.settlements import cursor_name
from switchgeard.config import Config, load_config
from switchgeard.daemon.compose import run_daemon
from switchgeard.daemon.demo import seed_demo
from switchgeard.lightning import open_bridge
from switchgeard.store import Store, open_store
from switchgeard.testing.fake_cln import serve_fake_cln
from switchgeard.testing.fake_lnd import serve_fake_lnd
from switchgeard.testing.fakebase import FakeNode
from switchgeard.units import NodeKey, PaymentHash

pytestmark = [pytest.mark.deadline(60), pytest.mark.slow]


def _config(tmp: Path) -> Config:
    lines = [
        "[store]", f'url = "sqlite://{tmp / "switchgeard.db"}"',
        "[admin]", f'socket = "{tmp / "admin.sock"}"',
        "[lightning]", 'network = "regtest"', 'call_timeout = "2s"',
        "[lnurl]", 'listen = ["127.0.0.1:0"]',
        "[telemetry]", 'prometheus_listen = ""',
        "[ratelimit]", "enabled = false",
        "[balancer]", 'backend_refresh = "100ms"',
        "[balancer.health]", 'interval = "100ms"', 'timeout = "1s"',
    ]  # fmt: skip
    path = tmp / "switchgeard.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return load_config(path)


@asynccontextmanager
async def daemon(config: Config) -> AsyncIterator[httpx.AsyncClient]:
    """The daemon running until the block ends; an HTTP client on its public listener."""
    async with trio.open_nursery() as nursery:
        addresses = await nursery.start(partial(run_daemon, config))
        async with httpx.AsyncClient(base_url=addresses.lnurl[0], timeout=10) as http:
            yield http
        nursery.cancel_scope.cancel()


async def invoices_on_each(
    http: httpx.AsyncClient, nodes: list[FakeNode], count: int
) -> dict[str, list[PaymentHash]]:
    """Pay-request callbacks until every node issued ``count`` invoices, by node pubkey."""
    issued: dict[str, list[PaymentHash]] = {node.pubkey: [] for node in nodes}
    while min(map(len, issued.values())) < count:
        response = await http.get(OFFER_PATH + "/invoice", params={"amount": "21000"})
        assert response.status_code == 200, response.text
        decoded = bolt11.decode(response.json()["pr"])
        issued[decoded.payee].append(PaymentHash(decoded.payment_hash))
    return issued


async def wait_settled(store: Store, hashes: list[PaymentHash]) -> None:
    for payment_hash in hashes:
        while (await store.get_invoice(payment_hash)).settled_at is None:
            await trio.sleep(0.02)


async def test_settlements_while_stopped_are_recorded_after_a_restart(tmp_path: Path) -> None:
    config = _config(tmp_path)
    async with open_bridge(), trio.open_nursery() as nursery:
        nodes: list[FakeNode] = [
            await nursery.start(serve_fake_lnd, tmp_path / "lnd"),
            await nursery.start(serve_fake_cln, tmp_path / "cln"),
        ]
        async with open_store(config.store) as store:
            await seed_demo(store, *nodes)  # type: ignore[arg-type]
            async with daemon(config) as http:
                issued = await invoices_on_each(http, nodes, 2)
                for node in nodes:
                    assert node.settle(issued[node.pubkey][0])
                await wait_settled(store, [hashes[0] for hashes in issued.values()])
            cursors = [cursor_name(NodeKey(node.pubkey)) for node in nodes]
            assert [await store.get_sync_state(name) for name in cursors] == ["1", "1"]
            for node in nodes:  # settled while the daemon is stopped
                assert node.settle(issued[node.pubkey][1])
            calls_before = [len(node.core.watched_after) for node in nodes]
            async with daemon(config):
                await wait_settled(store, [hashes[1] for hashes in issued.values()])
            for node, before in zip(nodes, calls_before, strict=True):
                assert node.core.watched_after[before] == 1  # resumed, not replayed from 0
            (lnd, cln) = [(await store.invoice_stats())[NodeKey(n.pubkey)] for n in nodes]
            assert lnd.settled == cln.settled == 2
        nursery.cancel_scope.cancel()
