"""A fake Core Lightning: the generated ``cln.Node`` service over mutual TLS.

Like cln-grpc it requires a client certificate signed by its CA and presents a server
certificate named only ``cln``/``localhost`` (dial 127.0.0.1 with ``domain="cln"``).
Invoices are real BOLT 11 strings signed by the fake's node key; with
``deschashonly`` they carry ``h = sha256(description)``.

Start it in-process with ``cln = await nursery.start(serve_fake_cln, directory)``.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import trio
from grpclib.const import Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Stream

from switchgeard.lightning._proto import cln
from switchgeard.lightning.endpoints import ClnEndpoint
from switchgeard.testing.fakebase import FakeNode, run_fake
from switchgeard.testing.fakecore import FakeInvoice, FakeNodeCore, guarded_mapping
from switchgeard.testing.fakeserver import ListeningServer, server_context
from switchgeard.testing.tls import make_cln_tls

_PAID = cln.ListinvoicesInvoicesListinvoicesInvoicesStatus.PAID
_UNPAID = cln.ListinvoicesInvoicesListinvoicesInvoicesStatus.UNPAID


class NodeService(cln.NodeBase):  # type: ignore[misc]  # generated code is not type-checked
    """The RPCs switchgeard calls, answered from ``FakeNodeCore`` state."""

    def __init__(self, core: FakeNodeCore) -> None:
        self.core = core
        self.pending_channel_msat = 7_000_000

    def __mapping__(self) -> dict[str, Handler]:
        return guarded_mapping(super().__mapping__(), self.core, _no_check)

    async def getinfo(self, message: cln.GetinfoRequest) -> cln.GetinfoResponse:
        core = self.core
        return cln.GetinfoResponse(
            id=bytes.fromhex(core.pubkey),
            alias=core.alias,
            num_peers=core.active_channels + 1,
            num_active_channels=core.active_channels,
            version="v25.05-fake",
            blockheight=core.block_height,
            network=core.network,
        )

    async def invoice(self, message: cln.InvoiceRequest) -> cln.InvoiceResponse:
        if not message.label:
            raise GRPCError(Status.INVALID_ARGUMENT, "label: should be a string")
        if self.core.has_label(message.label):
            raise GRPCError(Status.ALREADY_EXISTS, "Duplicate label")
        amount = message.amount_msat.amount if message.amount_msat else None
        if amount is None:
            raise GRPCError(Status.INVALID_ARGUMENT, "amount_msat: 'any' not supported by fake")
        description_hash = None
        if message.deschashonly:
            description_hash = hashlib.sha256(message.description.encode()).digest()
        invoice = self.core.add_invoice(
            amount_msat=amount.msat,
            description=message.description,
            description_hash=description_hash,
            expiry=message.expiry if message.expiry is not None else 604800,
            label=message.label,
        )
        return cln.InvoiceResponse(
            bolt11=invoice.bolt11,
            payment_hash=invoice.payment_hash,
            payment_secret=invoice.payment_secret,
            expires_at=invoice.created_at + invoice.expiry,
            created_index=invoice.add_index,
        )

    async def list_invoices(self, message: cln.ListinvoicesRequest) -> cln.ListinvoicesResponse:
        candidates: Iterable[FakeInvoice] = self.core.invoices.values()
        if message.payment_hash is not None:
            one = self.core.invoices.get(message.payment_hash)
            candidates = [] if one is None else [one]
        found = [
            _listed(inv)
            for inv in candidates
            if (message.payment_hash is None or inv.payment_hash == message.payment_hash)
            and (message.label is None or inv.label == message.label)
            and (message.invstring is None or inv.bolt11 == message.invstring)
        ]
        return cln.ListinvoicesResponse(invoices=found)

    async def wait_any_invoice(
        self, message: cln.WaitanyinvoiceRequest
    ) -> cln.WaitanyinvoiceResponse:
        after = message.lastpay_index or 0
        self.core.watched_after.append(after)
        while not self.core.settled_after(after):
            if message.timeout is None:
                await self.core.wait_changed()
                continue
            try:
                await asyncio.wait_for(self.core.wait_changed(), timeout=message.timeout)
            except TimeoutError:
                raise GRPCError(Status.UNKNOWN, "Timed out") from None
        return _waited(self.core.settled_after(after)[0])

    async def list_peer_channels(
        self, message: cln.ListpeerchannelsRequest
    ) -> cln.ListpeerchannelsResponse:
        peer = bytes.fromhex("02" + "11" * 32)
        normal = cln.ListpeerchannelsChannels(
            peer_id=peer,
            peer_connected=True,
            state=cln.ChannelState.ChanneldNormal,
            short_channel_id="800000x1x0",
            receivable_msat=cln.Amount(msat=self.core.inbound_msat),
            spendable_msat=cln.Amount(msat=1_000_000_000),
        )
        opening = cln.ListpeerchannelsChannels(
            peer_id=peer,
            peer_connected=True,
            state=cln.ChannelState.ChanneldAwaitingLockin,
            receivable_msat=cln.Amount(msat=self.pending_channel_msat),
        )
        return cln.ListpeerchannelsResponse(channels=[normal, opening])


def _no_check(stream: Stream[Any, Any]) -> None:
    """mTLS already authenticated the client during the handshake."""


def _listed(invoice: FakeInvoice) -> cln.ListinvoicesInvoices:
    paid = invoice.settled
    return cln.ListinvoicesInvoices(
        label=invoice.label,
        description=invoice.description,
        payment_hash=invoice.payment_hash,
        status=_PAID if paid else _UNPAID,
        expires_at=invoice.created_at + invoice.expiry,
        amount_msat=cln.Amount(msat=invoice.amount_msat),
        bolt11=invoice.bolt11,
        pay_index=invoice.settle_index if paid else None,
        amount_received_msat=cln.Amount(msat=invoice.amount_msat) if paid else None,
        paid_at=invoice.settled_at,
        payment_preimage=invoice.preimage if paid else None,
        created_index=invoice.add_index,
    )


def _waited(invoice: FakeInvoice) -> cln.WaitanyinvoiceResponse:
    return cln.WaitanyinvoiceResponse(
        label=invoice.label,
        description=invoice.description,
        payment_hash=invoice.payment_hash,
        status=cln.WaitanyinvoiceResponseWaitanyinvoiceStatus.PAID,
        expires_at=invoice.created_at + invoice.expiry,
        amount_msat=cln.Amount(msat=invoice.amount_msat),
        bolt11=invoice.bolt11,
        pay_index=invoice.settle_index,
        amount_received_msat=cln.Amount(msat=invoice.amount_msat),
        paid_at=invoice.settled_at,
        payment_preimage=invoice.preimage,
    )


class FakeCln(FakeNode):
    """A fake CLN node with its CA, server and client certificates in ``directory``."""

    kind = "cln"

    def __init__(self, directory: Path, core: FakeNodeCore | None = None) -> None:
        super().__init__(directory, core)
        self.tls = make_cln_tls(directory)
        context = server_context(self.tls.server_cert, self.tls.server_key)
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=self.tls.ca)
        self.service = NodeService(self.core)
        self.server = ListeningServer([self.service], context)

    def credentials(self) -> dict[str, str]:
        return {
            "domain": "cln",
            "ca_cert_path": str(self.tls.ca),
            "client_cert_path": str(self.tls.client_cert),
            "client_key_path": str(self.tls.client_key),
        }

    def endpoint(self, **changes: Any) -> ClnEndpoint:
        return ClnEndpoint(**self.endpoint_values(changes))


async def serve_fake_cln(
    directory: Path,
    *,
    core: FakeNodeCore | None = None,
    task_status: trio.TaskStatus[FakeCln] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run a ``FakeCln`` until cancelled; needs ``open_bridge()``; reports the node."""
    await run_fake(FakeCln(directory, core), task_status)
