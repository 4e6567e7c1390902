"""``seed_demo``: a re-run of the demo replaces the demo backends of the last run."""

from __future__ import annotations

from pathlib import Path

import trio

from switchgeard.config.model import StoreConfig
from switchgeard.daemon.demo import DEMO_OFFER_ID, seed_demo
from switchgeard.lightning import open_bridge
from switchgeard.store import open_store
from switchgeard.store.records import Backend, LndGrpc
from switchgeard.testing.fake_cln import serve_fake_cln
from switchgeard.testing.fake_lnd import serve_fake_lnd
from switchgeard.units import NodeKey


async def test_a_rerun_replaces_the_last_runs_demo_backends(tmp_path: Path) -> None:
    config = StoreConfig(url=f"sqlite://{tmp_path / 'demo.db'}")
    keep = Backend(
        public_key=NodeKey("0250c7d9f25d5dc59f952653d9b6aa4130ab38898b1638f4171bfff88a24548330"),
        name="my-own-node",
        partitions=frozenset({"default"}),
        weight=1,
        enabled=True,
        implementation=LndGrpc(
            url="https://127.0.0.1:1",
            tls_cert_path="/nonexistent",
            macaroon_path="/nonexistent",
        ),
    )
    seen: list[set[str]] = []
    async with open_bridge(), open_store(config) as store:
        await store.put_backend(keep)
        for run in range(2):  # each start of the fakes is a new pair of node keys
            async with trio.open_nursery() as nursery:
                lnd = await nursery.start(serve_fake_lnd, tmp_path / f"lnd{run}")
                cln = await nursery.start(serve_fake_cln, tmp_path / f"cln{run}")
                offer = await seed_demo(store, lnd, cln)
                backends = await store.list_backends()
                seen.append({backend.public_key for backend in backends})
                nursery.cancel_scope.cancel()
            assert {b.public_key for b in backends} == {lnd.pubkey, cln.pubkey, keep.public_key}
            assert offer.id == DEMO_OFFER_ID
    assert seen[0] != seen[1]  # the first run's demo backends are gone, the operator's stays
