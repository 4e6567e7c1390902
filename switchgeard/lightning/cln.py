"""``ClnBackend``: the LightningBackend for Core Lightning (cln-grpc ``cln.Node``, mTLS).

The client certificate and key authenticate us; the node's certificate is checked against
``ca_cert_path`` (plus system roots and the trusted roots file) under the name ``domain``
(cln-grpc certificates are issued for ``cln``). Invoices use ``deschashonly`` with the
full description and a unique label; inbound capacity is the receivable amount of
channels in CHANNELD_NORMAL.
"""

from __future__ import annotations

import itertools
import math
import secrets
from collections.abc import AsyncIterator

import trio

from switchgeard.config.model import LightningConfig
from switchgeard.errors import BackendProtocolError, BackendRejected, BackendUnavailable
from switchgeard.lightning._proto import cln
from switchgeard.lightning.adapter import Dial, NodeAdapter
from switchgeard.lightning.arguments import invoice_arguments, parse_payment_hash
from switchgeard.lightning.credentials import Identity, client_trust
from switchgeard.lightning.endpoints import ClnEndpoint
from switchgeard.lightning.interface import Invoice, InvoiceState, NodeStatus, Settlement
from switchgeard.lightning.watch import Backoff
from switchgeard.units import Msat, NodeKey, PaymentHash

LONG_POLL = 300.0
"""WaitAnyInvoice is re-issued this often, so a silently dead connection is noticed."""
_PAID = cln.ListinvoicesInvoicesListinvoicesInvoicesStatus.PAID
_WAIT_PAID = cln.WaitanyinvoiceResponseWaitanyinvoiceStatus.PAID
LABEL_PREFIX = "switchgeard-"
"""Labels of the invoices we create; the watcher ignores the node's other invoices."""
_NETWORKS = {"testnet4": "testnet"}


class ClnBackend(NodeAdapter[cln.NodeStub]):
    """One CLN node. Build with ``open_backend``; every method raises ``BackendError``."""

    def __init__(self, endpoint: ClnEndpoint, *, key: NodeKey, name: str, cfg: LightningConfig):
        who = Identity(key=key, name=name)
        trusted = tuple(p for p in (cfg.trusted_roots_file, endpoint.ca_cert_path) if p)
        trust = client_trust(
            who,
            trusted=trusted,
            client_cert=endpoint.client_cert_path,
            client_key=endpoint.client_key_path,
        )
        dial = Dial(
            url=endpoint.url,
            domain=endpoint.domain,
            trust=trust,
            trusted=trusted,
            credential=f"client certificate {endpoint.client_cert_path}",
            mutual_tls=True,
        )
        super().__init__(who, cfg, dial, cln.NodeStub)
        # Labels are switchgeard-<run>-<n>: a random 128-bit id per adapter and a counter,
        # unique on the node without a random draw (a system call) per invoice.
        self._label_run = secrets.token_hex(16)
        self._label_numbers = itertools.count()

    async def create_invoice(
        self, amount_msat: Msat, description: str, *, description_hash_only: bool, expiry: int
    ) -> Invoice:
        """Invoice for exactly ``amount_msat`` with a fresh label; validated before return."""
        invoice_arguments(amount_msat, expiry, key=self._key, name=self._name)
        request = cln.InvoiceRequest(
            amount_msat=cln.AmountOrAny(amount=cln.Amount(msat=int(amount_msat))),
            description=description,
            label=f"{LABEL_PREFIX}{self._label_run}-{next(self._label_numbers)}",
            expiry=expiry,
            deschashonly=description_hash_only,
        )
        reply = await self.rpc(lambda stub: stub.invoice(request))
        return self._checked_invoice(
            reply.bolt11,
            reply.payment_hash,
            amount_msat=amount_msat,
            description=description,
            description_hash_only=description_hash_only,
            expiry=expiry,
        )

    async def status(self) -> NodeStatus:
        """Getinfo + ListPeerChannels; the node must be the configured key and network."""
        info = await self.rpc(lambda stub: stub.getinfo(cln.GetinfoRequest()))
        channels = await self.rpc(
            lambda stub: stub.list_peer_channels(cln.ListpeerchannelsRequest())
        )
        network = _NETWORKS.get(info.network, info.network)
        self._check_identity(info.id.hex(), network)
        inbound = sum(
            channel.receivable_msat.msat
            for channel in channels.channels
            if channel.state == cln.ChannelState.ChanneldNormal
            and channel.receivable_msat is not None
        )
        return NodeStatus(
            pubkey=self._key,
            alias=info.alias,
            network=network,
            block_height=info.blockheight,
            inbound_capacity=Msat(inbound),
            active_channels=info.num_active_channels,
        )

    async def lookup_invoice(self, payment_hash: PaymentHash) -> InvoiceState:
        """ListInvoices by hash; an unknown hash is ``BackendRejected``."""
        raw = parse_payment_hash(payment_hash, key=self._key, name=self._name)
        request = cln.ListinvoicesRequest(payment_hash=raw)
        reply = await self.rpc(lambda stub: stub.list_invoices(request))
        if not reply.invoices:
            message = f"node has no invoice with payment hash {raw.hex()}"
            raise BackendRejected(message, key=self._key, name=self._name)
        found = reply.invoices[0]
        settled = found.status == _PAID
        preimage = found.payment_preimage
        return InvoiceState(
            payment_hash=PaymentHash(raw.hex()),
            settled=settled,
            preimage=preimage.hex() if settled and preimage else None,
            bolt11=found.bolt11,
        )

    async def watch_settlements(self, *, after: int) -> AsyncIterator[Settlement]:
        """WaitAnyInvoice behind pay index ``after``, one paid invoice after the other;
        retries after failures.

        From ``after=0`` every invoice the node ever settled is delivered. Invoices not
        created by switchgeard (other labels on a shared node) come without a payment hash.
        """
        backoff = Backoff()
        while True:
            try:
                paid = await self._next_paid(after)
            except BackendUnavailable:
                await backoff.wait()
                continue
            backoff.reset()
            if paid is not None:
                after = paid.index
                yield paid

    async def _next_paid(self, after: int) -> Settlement | None:
        """The invoice paid next after pay index ``after``; None after ``LONG_POLL``."""
        request = cln.WaitanyinvoiceRequest(lastpay_index=after)
        with trio.move_on_after(LONG_POLL):
            reply = await self.rpc(lambda stub: stub.wait_any_invoice(request), timeout=math.inf)
            if reply.pay_index is None or reply.pay_index <= after:
                message = f"WaitAnyInvoice answered pay_index {reply.pay_index} after {after}"
                raise BackendProtocolError(message, key=self._key, name=self._name)
            ours = reply.status == _WAIT_PAID and reply.label.startswith(LABEL_PREFIX)
            payment_hash = PaymentHash(reply.payment_hash.hex()) if ours else None
            return Settlement(index=reply.pay_index, payment_hash=payment_hash)
        return None
