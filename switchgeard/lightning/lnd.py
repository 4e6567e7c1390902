"""``LndBackend``: the LightningBackend for LND (``lnrpc.Lightning`` over TLS + macaroon).

Files are read when the backend is built, so a missing macaroon or certificate is a
``BackendAuthError`` naming the path before any call. Every call carries the macaroon as
hex in ``macaroon`` metadata. Invoice creation uses ``value_msat`` and, for LNURL,
``description_hash``; the invoice is validated before it is returned.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

import trio

from switchgeard.config.model import LightningConfig
from switchgeard.errors import BackendUnavailable
from switchgeard.lightning._proto import lnrpc
from switchgeard.lightning.adapter import Dial, NodeAdapter
from switchgeard.lightning.arguments import invoice_arguments, parse_payment_hash
from switchgeard.lightning.credentials import Identity, client_trust, read_macaroon_hex
from switchgeard.lightning.endpoints import LndEndpoint
from switchgeard.lightning.interface import Invoice, InvoiceState, NodeStatus, Settlement
from switchgeard.lightning.watch import Backoff
from switchgeard.units import Msat, NodeKey, PaymentHash

LONG_POLL = 300.0
"""A settlement subscription silent this long is opened again (resuming behind the last
settle index), so a silently dead connection is noticed."""
_SETTLED = lnrpc.InvoiceInvoiceState.SETTLED
_NETWORKS = {"mainnet": "bitcoin", "testnet": "testnet", "testnet4": "testnet"}
_NETWORKS |= {"signet": "signet", "regtest": "regtest"}


class LndBackend(NodeAdapter[lnrpc.LightningStub]):
    """One LND node. Build with ``open_backend``; every method raises ``BackendError``."""

    def __init__(self, endpoint: LndEndpoint, *, key: NodeKey, name: str, cfg: LightningConfig):
        who = Identity(key=key, name=name)
        trusted = tuple(p for p in (cfg.trusted_roots_file, endpoint.tls_cert_path) if p)
        trust = client_trust(who, trusted=trusted)
        self._metadata = {"macaroon": read_macaroon_hex(endpoint.macaroon_path, who)}
        self._amp = endpoint.amp_invoice
        dial = Dial(
            url=endpoint.url,
            domain=endpoint.domain,
            trust=trust,
            trusted=trusted,
            credential=f"macaroon {endpoint.macaroon_path}",
        )
        super().__init__(who, cfg, dial, lnrpc.LightningStub)

    async def create_invoice(
        self, amount_msat: Msat, description: str, *, description_hash_only: bool, expiry: int
    ) -> Invoice:
        """AddInvoice for exactly ``amount_msat``; validated before it is returned."""
        invoice_arguments(amount_msat, expiry, key=self._key, name=self._name)
        digest = hashlib.sha256(description.encode()).digest()
        request = lnrpc.Invoice(
            memo="" if description_hash_only else description,
            description_hash=digest if description_hash_only else b"",
            value_msat=int(amount_msat),
            expiry=expiry,
            private=False,
            is_amp=self._amp,
        )
        reply = await self.rpc(lambda stub: stub.add_invoice(request, metadata=self._metadata))
        return self._checked_invoice(
            reply.payment_request,
            reply.r_hash,
            amount_msat=amount_msat,
            description=description,
            description_hash_only=description_hash_only,
            expiry=expiry,
        )

    async def status(self) -> NodeStatus:
        """GetInfo + ChannelBalance; the node must be the configured key and network."""
        request = lnrpc.GetInfoRequest()
        info = await self.rpc(lambda stub: stub.get_info(request, metadata=self._metadata))
        balance_request = lnrpc.ChannelBalanceRequest()
        balance = await self.rpc(
            lambda stub: stub.channel_balance(balance_request, metadata=self._metadata)
        )
        network = _NETWORKS.get(info.chains[0].network if info.chains else "", "unknown")
        self._check_identity(info.identity_pubkey, network)
        remote = balance.remote_balance
        return NodeStatus(
            pubkey=self._key,
            alias=info.alias,
            network=network,
            block_height=info.block_height,
            inbound_capacity=Msat(remote.msat if remote is not None else 0),
            active_channels=info.num_active_channels,
        )

    async def lookup_invoice(self, payment_hash: PaymentHash) -> InvoiceState:
        """LookupInvoice by hash; NOT_FOUND is ``BackendRejected``."""
        raw = parse_payment_hash(payment_hash, key=self._key, name=self._name)
        request = lnrpc.PaymentHash(r_hash=raw)
        found = await self.rpc(lambda stub: stub.lookup_invoice(request, metadata=self._metadata))
        settled = found.state == _SETTLED
        return InvoiceState(
            payment_hash=PaymentHash(raw.hex()),
            settled=settled,
            preimage=found.r_preimage.hex() if settled and found.r_preimage else None,
            bolt11=found.payment_request or None,
        )

    async def watch_settlements(self, *, after: int) -> AsyncIterator[Settlement | None]:
        """SubscribeInvoices behind settle index ``after``; re-subscribes after failures.

        lnd replays the settlements above ``settle_index``, but none for 0: then only those
        from the subscription on are seen. Every later subscription resumes behind the last
        settlement yielded; one that cannot (still at 0) is announced by yielding None, as
        whatever settled in between is not replayed. A subscription silent for
        ``LONG_POLL`` is opened again.
        """
        backoff = Backoff()
        while True:
            try:
                async with aclosing(self._settlements(after)) as settlements:
                    async for settlement in settlements:
                        if settlement is None:
                            break  # silent for LONG_POLL: subscribe again
                        backoff.reset()
                        after = settlement.index
                        yield settlement
                    else:  # the node ended the stream: do not re-subscribe in a tight loop
                        await backoff.wait()
            except BackendUnavailable:
                await backoff.wait()
            if after == 0:
                yield None  # the next subscription cannot replay what settled meanwhile

    async def _settlements(self, after: int) -> AsyncGenerator[Settlement | None, None]:
        """Settlements above ``after`` from one subscription; None (then the end) after
        ``LONG_POLL`` without any message."""
        request = lnrpc.InvoiceSubscription(settle_index=after)
        stream = self.rpc.stream(
            lambda stub: stub.subscribe_invoices(request, metadata=self._metadata)
        )
        try:
            while True:
                invoice: lnrpc.Invoice | None = None
                with trio.move_on_after(LONG_POLL):
                    try:
                        invoice = await anext(stream)
                    except StopAsyncIteration:
                        return
                if invoice is None:
                    yield None
                    return
                if invoice.state == _SETTLED and invoice.settle_index > after:
                    after = (
                        invoice.settle_index
                    )  # each settlement once, though add events may repeat it
                    yield Settlement(index=after, payment_hash=PaymentHash(invoice.r_hash.hex()))
        finally:
            await stream.aclose()
