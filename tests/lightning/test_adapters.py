"""Every RPC over real TLS (LND) and mutual TLS (CLN) against the fakes, from trio."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import aclosing

import bolt11
import pytest
import trio
from either_node import Node

from switchgeard.config.model import LightningConfig, Seconds
from switchgeard.errors import BackendProtocolError, BackendRejected
from switchgeard.lightning import LightningBackend, open_backend
from switchgeard.lightning._proto import cln as clnrpc
from switchgeard.lightning._proto import lnrpc
from switchgeard.lightning.cln import ClnBackend
from switchgeard.lightning.lnd import LndBackend
from switchgeard.testing.fake_cln import FakeCln
from switchgeard.testing.fake_lnd import FakeLnd
from switchgeard.units import Msat, NodeKey, PaymentHash

METADATA = '[["text/plain","switchgeard test"],["text/identifier","alice@example.com"]]'


async def test_lnd_status(lnd: FakeLnd, lnd_backend: LightningBackend) -> None:
    lnd.core.inbound_msat = 123_456_789
    with trio.fail_after(5):
        status = await lnd_backend.status()
    assert status.pubkey == lnd.pubkey
    assert (status.network, status.block_height, status.active_channels) == ("regtest", 800_000, 1)
    assert status.inbound_capacity == 123_456_789
    assert lnd.core.calls["GetInfo"] == lnd.core.calls["ChannelBalance"] == 1


async def test_cln_status_counts_only_normal_channels(
    cln: FakeCln, cln_backend: LightningBackend
) -> None:
    cln.core.inbound_msat = 42_000
    with trio.fail_after(5):
        status = await cln_backend.status()
    assert status.pubkey == cln.pubkey
    assert status.inbound_capacity == 42_000  # the channel awaiting lockin is not counted
    assert status.network == "regtest"
    assert cln.core.calls["Getinfo"] == cln.core.calls["ListPeerChannels"] == 1


@pytest.mark.parametrize("hash_only", [True, False])
async def test_lnd_invoice_round_trip(
    lnd: FakeLnd, lnd_backend: LightningBackend, hash_only: bool
) -> None:
    with trio.fail_after(5):
        invoice = await lnd_backend.create_invoice(
            Msat(21_000), METADATA, description_hash_only=hash_only, expiry=600
        )
    stored = lnd.core.invoices[bytes.fromhex(invoice.payment_hash)]
    assert stored.bolt11 == invoice.bolt11
    decoded = bolt11.decode(invoice.bolt11)
    assert decoded.payee == lnd.pubkey and decoded.amount_msat == 21_000
    assert decoded.payment_hash == invoice.payment_hash
    if hash_only:
        assert decoded.description_hash == hashlib.sha256(METADATA.encode()).hexdigest()
        assert stored.description == ""  # lnd gets the hash, not the text
    else:
        assert decoded.description == METADATA
    assert stored.expiry == 600


async def test_cln_invoice_round_trip_uses_deschashonly_and_unique_labels(
    cln: FakeCln, cln_backend: LightningBackend
) -> None:
    with trio.fail_after(5):
        first = await cln_backend.create_invoice(
            Msat(1_500), METADATA, description_hash_only=True, expiry=300
        )
        second = await cln_backend.create_invoice(
            Msat(1_500), METADATA, description_hash_only=True, expiry=300
        )
    stored = [cln.core.invoices[bytes.fromhex(i.payment_hash)] for i in (first, second)]
    assert stored[0].description == METADATA  # the full text travels; only h is committed
    assert stored[0].label.startswith("switchgeard-") and stored[0].label != stored[1].label
    decoded = bolt11.decode(first.bolt11)
    assert decoded.description_hash == hashlib.sha256(METADATA.encode()).hexdigest()
    assert decoded.payee == cln.pubkey and decoded.amount_msat == 1_500


async def test_cln_labels_differ_across_adapters(cln: FakeCln) -> None:
    """A label is a per-adapter random run id and a counter: a restarted daemon (a new
    adapter, its counter at 0 again) must not reuse the labels of the last run."""
    config = LightningConfig(network="regtest", call_timeout=Seconds(2.0))
    labels = []
    for _ in range(2):
        async with open_backend(cln.endpoint(), key=NodeKey(cln.pubkey), name="c", cfg=config) as b:
            with trio.fail_after(5):
                invoice = await b.create_invoice(
                    Msat(1_000), METADATA, description_hash_only=True, expiry=60
                )
            labels.append(cln.core.invoices[bytes.fromhex(invoice.payment_hash)].label)
    assert labels[0] != labels[1]
    assert all(label.startswith("switchgeard-") and label.endswith("-0") for label in labels)


async def test_lnd_decode_pay_req(lnd: FakeLnd, lnd_backend: LndBackend) -> None:
    with trio.fail_after(5):
        invoice = await lnd_backend.create_invoice(
            Msat(3_000), "coffee", description_hash_only=False, expiry=60
        )
        request = lnrpc.PayReqString(pay_req=invoice.bolt11)
        macaroon = {"macaroon": lnd.macaroon_path.read_bytes().hex()}
        decoded = await lnd_backend.rpc(
            lambda stub: stub.decode_pay_req(request, metadata=macaroon)
        )
    assert decoded.destination == lnd.pubkey
    assert (decoded.num_msat, decoded.description) == (3_000, "coffee")
    assert decoded.payment_hash == invoice.payment_hash


async def test_settlement_seen_by_watch_and_lookup(node: Node) -> None:
    fake, backend = node.fake, node.backend
    with trio.fail_after(10):
        invoice = await backend.create_invoice(
            Msat(5_000), METADATA, description_hash_only=True, expiry=600
        )
        before = await backend.lookup_invoice(invoice.payment_hash)
        assert not before.settled and before.preimage is None
        seen: list[PaymentHash | None] = []
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_collect, backend, 1, seen)
            await _wait_for(lambda: _watching(fake))  # lnd streams "from now on"
            fake.settle(invoice.payment_hash)
        assert seen == [invoice.payment_hash]
        after = await backend.lookup_invoice(invoice.payment_hash)
    assert after.settled and after.bolt11 == invoice.bolt11
    preimage = fake.core.invoices[bytes.fromhex(invoice.payment_hash)].preimage
    assert after.preimage == preimage.hex()


async def test_watch_resumes_after_node_restart(node: Node) -> None:
    fake, backend = node.fake, node.backend
    with trio.fail_after(15):
        hashes = [
            (
                await backend.create_invoice(
                    Msat(1_000 + n), "x", description_hash_only=True, expiry=600
                )
            ).payment_hash
            for n in range(2)
        ]
        seen: list[PaymentHash | None] = []
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_collect, backend, 2, seen)
            await _wait_for(lambda: _watching(fake))
            fake.settle(hashes[0])
            await _wait_for(lambda: len(seen) == 1)
            await fake.go_down()
            fake.settle(hashes[1])  # settled while we are disconnected
            await trio.sleep(0.3)
            await fake.come_up()
        assert seen == hashes


async def test_lookup_unknown_invoice_is_rejected(
    lnd_backend: LightningBackend, cln_backend: LightningBackend
) -> None:
    unknown = PaymentHash("ab" * 32)
    with trio.fail_after(5):
        for backend in (lnd_backend, cln_backend):
            with pytest.raises(BackendRejected) as info:
                await backend.lookup_invoice(unknown)
            assert info.value.name == backend.name and info.value.key == backend.key
            with pytest.raises(BackendRejected, match="payment_hash"):
                await backend.lookup_invoice(PaymentHash("not-hex"))


async def test_zero_amount_is_refused_before_the_node_is_asked(
    lnd: FakeLnd, lnd_backend: LightningBackend
) -> None:
    with pytest.raises(BackendRejected, match="amount_msat"):
        await lnd_backend.create_invoice(Msat(0), "x", description_hash_only=True, expiry=60)
    assert lnd.core.calls["AddInvoice"] == 0


async def test_node_with_another_identity_is_faulty(node: Node) -> None:
    fake, backend = node.fake, node.backend
    fake.core.network = "signet"
    with trio.fail_after(5), pytest.raises(BackendProtocolError, match="signet"):
        await backend.status()


async def test_cln_list_invoices_by_label(cln: FakeCln, cln_backend: ClnBackend) -> None:
    with trio.fail_after(5):
        invoice = await cln_backend.create_invoice(
            Msat(2_000), "x", description_hash_only=False, expiry=60
        )
        label = cln.core.invoices[bytes.fromhex(invoice.payment_hash)].label
        request = clnrpc.ListinvoicesRequest(label=label)
        reply = await cln_backend.rpc(lambda stub: stub.list_invoices(request))
    assert [i.bolt11 for i in reply.invoices] == [invoice.bolt11]


async def _wait_for(condition: Callable[[], bool]) -> None:
    while not condition():
        await trio.sleep(0.01)


def _watching(fake: FakeLnd | FakeCln) -> bool:
    return fake.core.calls["SubscribeInvoices"] + fake.core.calls["WaitAnyInvoice"] > 0


async def _collect(backend: LightningBackend, count: int, seen: list[PaymentHash | None]) -> None:
    """The payment hashes of the first ``count`` settlements (None: another application's)."""
    async with aclosing(backend.watch_settlements(after=0)) as settlements:
        async for settlement in settlements:
            if settlement is None:
                continue
            seen.append(settlement.payment_hash)
            if len(seen) == count:
                return


async def test_cln_watch_skips_invoices_other_software_created(
    cln: FakeCln, cln_backend: ClnBackend
) -> None:
    foreign = clnrpc.InvoiceRequest(
        amount_msat=clnrpc.AmountOrAny(amount=clnrpc.Amount(msat=7_000)),
        description="someone else's",
        label="shop-order-17",
    )
    with trio.fail_after(10):
        other = await cln_backend.rpc(lambda stub: stub.invoice(foreign))
        ours = await cln_backend.create_invoice(
            Msat(5_000), "x", description_hash_only=True, expiry=600
        )
        cln.settle(PaymentHash(other.payment_hash.hex()))
        cln.settle(ours.payment_hash)
        seen: list[PaymentHash | None] = []
        await _collect(cln_backend, 2, seen)
    assert seen == [None, ours.payment_hash]  # the other one counts for the index only


async def test_lnd_watch_backs_off_when_the_node_keeps_ending_the_stream(
    lnd: FakeLnd, lnd_backend: LightningBackend
) -> None:
    lnd.core.faults.end_streams = True
    with trio.move_on_after(2):
        await _collect(lnd_backend, 1, [])
    # 0.25 s doubling: a handful of subscriptions in 2 s, not a tight loop.
    assert 2 <= lnd.core.calls["SubscribeInvoices"] <= 6
