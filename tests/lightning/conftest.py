"""Fixtures: the asyncio bridge, fake LND/CLN nodes on port 0, and adapters bound to them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
from either_node import Node

from switchgeard.config.model import LightningConfig, Seconds
from switchgeard.lightning import LightningBackend, open_backend, open_bridge
from switchgeard.testing.fake_cln import FakeCln, serve_fake_cln
from switchgeard.testing.fake_lnd import FakeLnd, serve_fake_lnd
from switchgeard.testing.fakebase import FakeNode
from switchgeard.units import NodeKey

CFG = LightningConfig(network="regtest", call_timeout=Seconds(2.0))


@pytest.fixture
async def bridge() -> AsyncIterator[None]:
    async with open_bridge():
        yield


@pytest.fixture
async def lnd(bridge: None, nursery: trio.Nursery, tmp_path: Path) -> FakeLnd:
    fake: FakeLnd = await nursery.start(serve_fake_lnd, tmp_path / "lnd")
    return fake


@pytest.fixture
async def cln(bridge: None, nursery: trio.Nursery, tmp_path: Path) -> FakeCln:
    fake: FakeCln = await nursery.start(serve_fake_cln, tmp_path / "cln")
    return fake


@pytest.fixture
async def lnd_backend(lnd: FakeLnd) -> AsyncIterator[LightningBackend]:
    async with open_backend(lnd.endpoint(), key=NodeKey(lnd.pubkey), name="lnd1", cfg=CFG) as b:
        yield b


@pytest.fixture
async def cln_backend(cln: FakeCln) -> AsyncIterator[LightningBackend]:
    async with open_backend(cln.endpoint(), key=NodeKey(cln.pubkey), name="cln1", cfg=CFG) as b:
        yield b


@pytest.fixture(params=["lnd", "cln"])
async def node(
    request: pytest.FixtureRequest, bridge: None, nursery: trio.Nursery, tmp_path: Path
) -> AsyncIterator[Node]:
    """The same test against LND and against CLN (one fake node each time)."""
    kind: str = request.param
    serve = serve_fake_lnd if kind == "lnd" else serve_fake_cln
    fake: FakeNode = await nursery.start(serve, tmp_path / kind)
    key = NodeKey(fake.pubkey)
    async with open_backend(fake.endpoint(), key=key, name=f"{kind}1", cfg=CFG) as backend:
        yield Node(kind, fake, backend)
