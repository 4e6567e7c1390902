"""The gRPC link: one channel for concurrent calls, stream cancellation, no asyncio needed."""

from __future__ import annotations

from contextlib import aclosing
from functools import partial
from pathlib import Path

import grpc
import pytest
import trio
import trio.testing
from either_node import Node

from switchgeard.config.model import LightningConfig, Seconds
from switchgeard.errors import BackendUnavailable
from switchgeard.lightning import LndEndpoint, open_backend
from switchgeard.lightning._bridge import CallFailed, GrpcLink, Target
from switchgeard.lightning._proto import lnrpc
from switchgeard.lightning.credentials import Identity, client_trust
from switchgeard.lightning.lnd import LndBackend
from switchgeard.testing.fake_lnd import FakeLnd
from switchgeard.testing.tls import make_lnd_tls
from switchgeard.units import Msat, NodeKey

CFG = LightningConfig(network="regtest", call_timeout=Seconds(2.0))


async def test_many_concurrent_calls_share_one_channel(
    lnd: FakeLnd, lnd_backend: LndBackend
) -> None:
    hashes: set[str] = set()

    async def one(amount: int) -> None:
        invoice = await lnd_backend.create_invoice(
            Msat(amount), "x", description_hash_only=True, expiry=60
        )
        hashes.add(invoice.payment_hash)

    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            for amount in range(1_000, 1_150):
                nursery.start_soon(one, amount)
    assert len(hashes) == 150 == lnd.core.calls["AddInvoice"]
    assert lnd_backend.rpc.dials == 1


async def test_cancelling_a_watch_cancels_the_server_side_stream(node: Node) -> None:
    kind, fake, backend = node
    method = "SubscribeInvoices" if kind == "lnd" else "WaitAnyInvoice"

    async def watch() -> None:
        async with aclosing(backend.watch_settlements(after=0)) as settlements:
            async for _ in settlements:
                raise AssertionError("nothing was settled")

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch)
            while fake.core.calls[method] == 0:
                await trio.sleep(0.01)
            nursery.cancel_scope.cancel()
        while fake.core.cancelled == 0:
            await trio.sleep(0.01)
    assert fake.core.cancelled == 1


async def test_adapters_need_no_asyncio_loop(tmp_path: Path) -> None:
    """Only the fake nodes (grpclib servers) need ``open_bridge``; a call outside it is an
    ordinary call, here to a closed port."""
    tls = make_lnd_tls(tmp_path)
    macaroon = tmp_path / "admin.macaroon"
    macaroon.write_bytes(b"m")
    endpoint = LndEndpoint(
        url="127.0.0.1:1", tls_cert_path=str(tls.cert), macaroon_path=str(macaroon)
    )
    backend = LndBackend(endpoint, key=NodeKey("02" + "00" * 32), name="x", cfg=CFG)
    with trio.fail_after(5), pytest.raises(BackendUnavailable, match=r"127\.0\.0\.1:1"):
        await backend.status()
    await backend.aclose()


async def test_open_backend_closes_channels(lnd: FakeLnd) -> None:
    async with open_backend(lnd.endpoint(), key=NodeKey(lnd.pubkey), name="x", cfg=CFG) as b:
        with trio.fail_after(5):
            await b.status()
    assert lnd.core.calls["GetInfo"] == 1


async def test_diagnosing_a_failed_connection_stays_within_the_call_timeout(
    tmp_path: Path,
) -> None:
    """grpcio's first connection is dropped at once (a terse UNAVAILABLE); the diagnostic
    handshake then meets a node that accepts and says nothing. The call still ends at its
    timeout, with the node named."""
    tls = make_lnd_tls(tmp_path)
    macaroon = tmp_path / "admin.macaroon"
    macaroon.write_bytes(b"m")
    connections = 0

    async def handler(stream: trio.SocketStream) -> None:
        nonlocal connections
        connections += 1
        if connections > 1:
            await trio.sleep_forever()  # later connections hang: no TLS answer
        await stream.aclose()  # the first one is dropped at once

    async with trio.open_nursery() as nursery:
        [listener] = await nursery.start(partial(trio.serve_tcp, handler, 0, host="127.0.0.1"))
        port = listener.socket.getsockname()[1]
        endpoint = LndEndpoint(
            url=f"127.0.0.1:{port}", tls_cert_path=str(tls.cert), macaroon_path=str(macaroon)
        )
        cfg = LightningConfig(network="regtest", call_timeout=Seconds(1.0))
        backend = LndBackend(endpoint, key=NodeKey("02" + "00" * 32), name="x", cfg=cfg)
        started = trio.current_time()
        with trio.fail_after(5), pytest.raises(BackendUnavailable, match=f"127.0.0.1:{port}"):
            await backend.status()
        assert trio.current_time() - started < 1.5
        await backend.aclose()
        nursery.cancel_scope.cancel()


async def test_a_late_failure_does_not_close_the_channel_dialled_since(tmp_path: Path) -> None:
    """Call A waits on channel 1; call B fails, which closes channel 1; call C dials
    channel 2; then A fails too. Channel 2 must stay: A's channel is gone already."""
    tls = make_lnd_tls(tmp_path)
    trust = client_trust(Identity(key="k", name="n"), trusted=(str(tls.cert),))
    target = Target(host="127.0.0.1", port=1, trust=trust)
    link = GrpcLink(target, lnrpc.LightningStub)
    release_a = trio.Event()

    async def fails(stub: object, after: trio.Event | None = None) -> None:
        if after is not None:
            await after.wait()
        raise CallFailed(grpc.StatusCode.UNAVAILABLE, "the node said so")

    async def succeeds(stub: object) -> str:
        return "ok"

    async def call_a() -> None:
        with pytest.raises(CallFailed):
            await link.call(partial(fails, after=release_a), 5)

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(call_a)
            await trio.testing.wait_all_tasks_blocked()
            with pytest.raises(CallFailed):
                await link.call(fails, 5)  # B
            assert await link.call(succeeds, 5) == "ok"  # C dials channel 2
            current = link._channel
            release_a.set()
    assert link.dials == 2
    assert current is not None and link._channel is current
    await link.aclose()
