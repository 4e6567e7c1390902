"""State and behaviour shared by the fake LND and CLN nodes.

``FakeNodeCore`` holds the node key (which signs real BOLT 11 invoices), the invoices,
the fault switches and the counters. ``guarded_mapping`` wraps every generated gRPC
handler so authentication, faults and cancellation counting apply to all RPCs alike.
The services run on asyncio (grpclib's loop); ``fakeserver`` serves them.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from typing import Any

import coincurve
from grpclib.const import Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Stream

from switchgeard.lightning.validate import NETWORK_CURRENCY
from switchgeard.testing.invoices import InvoiceRequest, encode_invoice


@dataclass(slots=True)
class Faults:
    """Runtime fault switches. Set attributes directly or through ``update``."""

    unavailable: bool = False
    """Every RPC fails with UNAVAILABLE."""
    slow_ms: int = 0
    """Every RPC waits this long before answering."""
    hang: bool = False
    """Every RPC waits forever (until the client cancels it)."""
    reject: bool = False
    """Every RPC fails with INVALID_ARGUMENT."""
    wrong_amount: bool = False
    wrong_hash: bool = False
    """The invoice commits to a different description (hash)."""
    missing_secret: bool = False
    wrong_payee: bool = False
    """The invoice is signed by another key."""
    wrong_network: bool = False
    end_streams: bool = False
    """Server-streaming RPCs end at once, as a node closing its subscriptions."""
    down: bool = False
    """The node does not listen (handled by the server control, not per RPC)."""

    def update(self, values: dict[str, Any]) -> None:
        """Set switches from a mapping; unknown names or wrong types raise ``ValueError``."""
        known = {item.name: item.type for item in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {sorted(known)}")
            wanted = int if name == "slow_ms" else bool
            if type(value) is not wanted:
                raise ValueError(f"fault {name!r} must be {wanted.__name__}")
            setattr(self, name, value)

    def clear(self) -> None:
        self.update({item.name: 0 if item.name == "slow_ms" else False for item in fields(self)})


@dataclass(slots=True, kw_only=True)
class FakeInvoice:
    payment_hash: bytes
    preimage: bytes
    payment_secret: bytes
    bolt11: str
    amount_msat: int
    description: str
    description_hash: bytes | None
    label: str
    created_at: int
    expiry: int
    add_index: int
    settle_index: int = 0
    settled_at: int | None = None

    @property
    def settled(self) -> bool:
        return self.settle_index > 0


@dataclass(slots=True, kw_only=True)
class FakeNodeCore:
    """The node's key, invoices, faults and counters; shared by the gRPC services."""

    network: str = "regtest"
    alias: str = "fake"
    inbound_msat: int = 50_000_000_000
    active_channels: int = 1
    block_height: int = 800_000
    private_key: coincurve.PrivateKey = field(default_factory=coincurve.PrivateKey)
    faults: Faults = field(default_factory=Faults)
    cancelled: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    watched_after: list[int] = field(default_factory=list)
    """The settle index each settlement watch call resumed behind, in call order
    (``SubscribeInvoices`` ``settle_index``, ``WaitAnyInvoice`` ``lastpay_index``)."""
    invoices: dict[bytes, FakeInvoice] = field(default_factory=dict)
    _added: list[FakeInvoice] = field(default_factory=list)
    """In add order: ``add_index`` n is ``_added[n - 1]`` (a real node indexes these)."""
    _settled: list[FakeInvoice] = field(default_factory=list)
    """In settle order: ``settle_index`` n is ``_settled[n - 1]``."""
    _labels: set[str] = field(default_factory=set)
    _changed: asyncio.Event | None = None

    @property
    def pubkey(self) -> str:
        return self.private_key.public_key.format(compressed=True).hex()

    def add_invoice(
        self,
        *,
        amount_msat: int,
        description: str,
        description_hash: bytes | None,
        expiry: int,
        label: str,
    ) -> FakeInvoice:
        """Create, sign and remember an invoice, bending it as the faults say."""
        preimage = secrets.token_bytes(32)
        invoice = FakeInvoice(
            payment_hash=hashlib.sha256(preimage).digest(),
            preimage=preimage,
            payment_secret=secrets.token_bytes(32),
            bolt11="",
            amount_msat=amount_msat,
            description=description,
            description_hash=description_hash,
            label=label,
            created_at=int(time.time()),
            expiry=expiry,
            add_index=len(self._added) + 1,
        )
        invoice.bolt11 = self._encode(invoice)
        self.invoices[invoice.payment_hash] = invoice
        self._added.append(invoice)
        self._labels.add(label)
        self._notify()
        return invoice

    def settle(self, payment_hash: str) -> bool:
        """Mark the invoice paid; False if it already was. ``KeyError`` if unknown."""
        invoice = self.invoices.get(bytes.fromhex(payment_hash))
        if invoice is None:
            raise KeyError(f"no invoice with payment hash {payment_hash}")
        if invoice.settled:
            return False
        self._settled.append(invoice)
        invoice.settle_index = len(self._settled)
        invoice.settled_at = int(time.time())
        self._notify()
        return True

    def has_label(self, label: str) -> bool:
        return label in self._labels

    @property
    def last_settle_index(self) -> int:
        return len(self._settled)

    def added_after(self, index: int) -> list[FakeInvoice]:
        """Invoices with ``add_index`` above ``index``, in add order."""
        return self._added[max(index, 0) :]

    def settled_after(self, index: int) -> list[FakeInvoice]:
        """Invoices with ``settle_index`` above ``index``, in settle order."""
        return self._settled[max(index, 0) :]

    async def wait_changed(self) -> None:
        """Wait (on the asyncio side) until an invoice is added or settled."""
        if self._changed is None:
            self._changed = asyncio.Event()
        await self._changed.wait()

    def _notify(self) -> None:
        changed, self._changed = self._changed, None
        if changed is not None:
            changed.set()

    def _encode(self, invoice: FakeInvoice) -> str:
        faults = self.faults
        description = invoice.description + (" (altered)" if faults.wrong_hash else "")
        description_hash = invoice.description_hash
        if description_hash is not None and faults.wrong_hash:
            description_hash = hashlib.sha256(description_hash).digest()
        currency = NETWORK_CURRENCY[self.network]
        if faults.wrong_network:
            currency = "tb" if currency == "bc" else "bc"
        request = InvoiceRequest(
            currency=currency,
            amount_msat=invoice.amount_msat + (1000 if faults.wrong_amount else 0),
            payment_hash=invoice.payment_hash,
            payment_secret=None if faults.missing_secret else invoice.payment_secret,
            description=description,
            description_hash=description_hash,
            expiry=invoice.expiry,
            timestamp=invoice.created_at,
        )
        key = coincurve.PrivateKey() if faults.wrong_payee else self.private_key
        return encode_invoice(request, key)

    async def apply_call_faults(self) -> None:
        """Per-RPC faults, in the order a real failure would show them."""
        if self.faults.unavailable:
            raise GRPCError(Status.UNAVAILABLE, "fake: node unavailable")
        if self.faults.slow_ms:
            await asyncio.sleep(self.faults.slow_ms / 1000)
        if self.faults.hang:
            await asyncio.get_running_loop().create_future()
        if self.faults.reject:
            raise GRPCError(Status.INVALID_ARGUMENT, "fake: request rejected")


Authenticate = Callable[[Stream[Any, Any]], None]


def guarded_mapping(
    mapping: dict[str, Handler], core: FakeNodeCore, authenticate: Authenticate
) -> dict[str, Handler]:
    """Wrap each handler: authenticate, count, apply faults, count cancellations."""

    def wrap(path: str, func: Callable[[Stream[Any, Any]], Awaitable[None]]) -> Any:
        method = path.rsplit("/", 1)[-1]

        async def handler(stream: Stream[Any, Any]) -> None:
            authenticate(stream)
            core.calls[method] += 1
            try:
                await core.apply_call_faults()
                await func(stream)
            except asyncio.CancelledError:
                core.cancelled += 1
                raise

        return handler

    return {
        path: Handler(wrap(path, h.func), h.cardinality, h.request_type, h.reply_type)
        for path, h in mapping.items()
    }
