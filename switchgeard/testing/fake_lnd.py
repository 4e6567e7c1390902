"""A fake LND: the generated ``lnrpc.Lightning`` service over TLS with macaroon checks.

Like lnd it serves a self-signed ``tls.cert`` and refuses calls whose ``macaroon``
metadata is missing or wrong with status UNKNOWN and lnd's own messages. Invoices are
real BOLT 11 strings signed by the fake's node key.

Start it in-process with ``lnd = await nursery.start(serve_fake_lnd, directory)``;
control it through ``lnd.core`` (faults, counters), ``lnd.settle(hash)``,
``await lnd.go_down()`` and ``await lnd.come_up()``.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import trio
from grpclib.const import Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Stream

from switchgeard.lightning._proto import lnrpc
from switchgeard.lightning.bolt11 import decode_invoice
from switchgeard.lightning.endpoints import LndEndpoint
from switchgeard.testing.fakebase import FakeNode, run_fake
from switchgeard.testing.fakecore import FakeInvoice, FakeNodeCore, guarded_mapping
from switchgeard.testing.fakeserver import ListeningServer, server_context
from switchgeard.testing.tls import make_lnd_tls

_LND_NETWORK = {"bitcoin": "mainnet", "testnet": "testnet", "signet": "signet"}
_LND_NETWORK["regtest"] = "regtest"


class LightningService(lnrpc.LightningBase):  # type: ignore[misc]  # generated code is not type-checked
    """The RPCs switchgeard calls, answered from ``FakeNodeCore`` state."""

    def __init__(self, core: FakeNodeCore, macaroon_hex: str) -> None:
        self.core = core
        self.macaroon_hex = macaroon_hex

    def __mapping__(self) -> dict[str, Handler]:
        return guarded_mapping(super().__mapping__(), self.core, self._authenticate)

    def _authenticate(self, stream: Stream[Any, Any]) -> None:
        sent = stream.metadata.getall("macaroon") if stream.metadata else []
        if len(sent) != 1:
            raise GRPCError(Status.UNKNOWN, f"expected 1 macaroon, got {len(sent)}")
        if sent[0] != self.macaroon_hex:
            message = "verification failed: signature mismatch after caveat verification"
            raise GRPCError(Status.UNKNOWN, message)

    async def get_info(self, message: lnrpc.GetInfoRequest) -> lnrpc.GetInfoResponse:
        core = self.core
        return lnrpc.GetInfoResponse(
            identity_pubkey=core.pubkey,
            alias=core.alias,
            num_active_channels=core.active_channels,
            block_height=core.block_height,
            synced_to_chain=True,
            version="0.19.0-beta fake",
            chains=[lnrpc.Chain(chain="bitcoin", network=_LND_NETWORK[core.network])],
        )

    async def channel_balance(
        self, message: lnrpc.ChannelBalanceRequest
    ) -> lnrpc.ChannelBalanceResponse:
        inbound = self.core.inbound_msat
        return lnrpc.ChannelBalanceResponse(
            local_balance=lnrpc.Amount(sat=1_000_000, msat=1_000_000_000),
            remote_balance=lnrpc.Amount(sat=inbound // 1000, msat=inbound),
        )

    async def add_invoice(self, message: lnrpc.Invoice) -> lnrpc.AddInvoiceResponse:
        if message.value and message.value_msat:
            raise GRPCError(Status.INVALID_ARGUMENT, "value and value_msat are mutually exclusive")
        if message.description_hash and len(message.description_hash) != 32:
            raise GRPCError(Status.INVALID_ARGUMENT, "description hash must be 32 bytes")
        invoice = self.core.add_invoice(
            amount_msat=message.value_msat or message.value * 1000,
            description=message.memo,
            description_hash=message.description_hash or None,
            expiry=message.expiry or 86400,
            label="",
        )
        return lnrpc.AddInvoiceResponse(
            r_hash=invoice.payment_hash,
            payment_request=invoice.bolt11,
            add_index=invoice.add_index,
            payment_addr=invoice.payment_secret,
        )

    async def lookup_invoice(self, message: lnrpc.PaymentHash) -> lnrpc.Invoice:
        if len(message.r_hash) != 32:
            raise GRPCError(Status.UNKNOWN, "payment hash must be exactly 32 bytes")
        invoice = self.core.invoices.get(message.r_hash)
        if invoice is None:
            raise GRPCError(Status.NOT_FOUND, "unable to locate invoice")
        return _lnd_invoice(invoice)

    async def subscribe_invoices(
        self, message: lnrpc.InvoiceSubscription
    ) -> AsyncIterator[lnrpc.Invoice]:
        """Like lnd: the backlog above ``add_index``/``settle_index`` (none for 0), then
        live events. A live add event shows the invoice as it was added (open), even if it
        was settled before the event went out; its settle event follows in settle order."""
        core = self.core
        core.watched_after.append(message.settle_index)
        if core.faults.end_streams:
            return
        live = len(core.invoices)
        seen_add = message.add_index or live
        seen_settle = message.settle_index or core.last_settle_index
        while True:
            for invoice in core.added_after(seen_add):
                seen_add = invoice.add_index
                yield _lnd_invoice(invoice, as_added=invoice.add_index > live)
            for invoice in core.settled_after(seen_settle):
                seen_settle = invoice.settle_index
                yield _lnd_invoice(invoice)
            await core.wait_changed()

    async def decode_pay_req(self, message: lnrpc.PayReqString) -> lnrpc.PayReq:
        decoded = decode_invoice(message.pay_req)
        return lnrpc.PayReq(
            destination=decoded.payee,
            payment_hash=decoded.payment_hash,
            num_satoshis=(decoded.amount_msat or 0) // 1000,
            num_msat=decoded.amount_msat or 0,
            timestamp=decoded.timestamp,
            expiry=decoded.expiry,
            description=decoded.description or "",
            description_hash=decoded.description_hash or "",
            cltv_expiry=decoded.min_final_cltv_expiry,
            payment_addr=bytes.fromhex(decoded.payment_secret),
        )


def _lnd_invoice(invoice: FakeInvoice, *, as_added: bool = False) -> lnrpc.Invoice:
    """The invoice as lnd shows it now, or (``as_added``) as it was when it was added."""
    settled = invoice.settled and not as_added
    state = lnrpc.InvoiceInvoiceState.SETTLED if settled else lnrpc.InvoiceInvoiceState.OPEN
    return lnrpc.Invoice(
        memo=invoice.description,
        description_hash=invoice.description_hash or b"",
        r_preimage=invoice.preimage if settled else b"",
        r_hash=invoice.payment_hash,
        value=invoice.amount_msat // 1000,
        value_msat=invoice.amount_msat,
        creation_date=invoice.created_at,
        settle_date=(invoice.settled_at or 0) if settled else 0,
        payment_request=invoice.bolt11,
        expiry=invoice.expiry,
        add_index=invoice.add_index,
        settle_index=invoice.settle_index if settled else 0,
        amt_paid_msat=invoice.amount_msat if settled else 0,
        state=state,
        payment_addr=invoice.payment_secret,
    )


class FakeLnd(FakeNode):
    """A fake LND node with its TLS certificate and macaroon written to ``directory``."""

    kind = "lnd"

    def __init__(self, directory: Path, core: FakeNodeCore | None = None) -> None:
        super().__init__(directory, core)
        tls = make_lnd_tls(directory)
        self.tls_cert_path = tls.cert
        self.macaroon_path = directory / "admin.macaroon"
        self.macaroon_path.write_bytes(b"\x02\x01\x03lnd" + secrets.token_bytes(61))
        service = LightningService(self.core, self.macaroon_path.read_bytes().hex())
        self.server = ListeningServer([service], server_context(tls.cert, tls.key))

    def credentials(self) -> dict[str, str]:
        return {"tls_cert_path": str(self.tls_cert_path), "macaroon_path": str(self.macaroon_path)}

    def endpoint(self, **changes: Any) -> LndEndpoint:
        return LndEndpoint(**self.endpoint_values(changes))


async def serve_fake_lnd(
    directory: Path,
    *,
    core: FakeNodeCore | None = None,
    task_status: trio.TaskStatus[FakeLnd] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run a ``FakeLnd`` until cancelled; needs ``open_bridge()``; reports the node."""
    await run_fake(FakeLnd(directory, core), task_status)
