"""The LightningBackend protocol every node adapter implements, and its value types."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from switchgeard.units import Msat, NodeKey, PaymentHash


@dataclass(frozen=True, slots=True, kw_only=True)
class Invoice:
    """A validated BOLT11 invoice as created on a node."""

    bolt11: str
    payment_hash: PaymentHash
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeStatus:
    pubkey: NodeKey
    alias: str
    network: str
    block_height: int
    inbound_capacity: Msat
    active_channels: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceState:
    payment_hash: PaymentHash
    settled: bool
    preimage: str | None
    bolt11: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Settlement:
    """An invoice the node settled, at ``index`` in the node's sequence of settlements.

    ``index`` is LND's ``settle_index`` or CLN's ``pay_index``: 1 for the first invoice the
    node ever settled, one more for each one after it. Passing it back as ``after`` to
    ``watch_settlements`` resumes behind this settlement. ``payment_hash`` is None for an
    invoice the adapter knows another application created (only its index matters then).
    """

    index: int
    payment_hash: PaymentHash | None


class LightningBackend(Protocol):
    """One Lightning node. Every method raises only ``BackendError`` subclasses.

    ``key`` and ``name`` identify the node in errors and logs. The caller owns the backend
    and must ``await aclose()`` it.
    """

    @property
    def key(self) -> NodeKey: ...

    @property
    def name(self) -> str: ...

    async def create_invoice(
        self,
        amount_msat: Msat,
        description: str,
        *,
        description_hash_only: bool,
        expiry: int,
    ) -> Invoice:
        """Create an invoice for exactly ``amount_msat``.

        With ``description_hash_only`` the invoice carries ``h = sha256(description)``
        (LNURL), else ``d = description``. The invoice is validated before it is returned.
        """
        ...

    async def status(self) -> NodeStatus: ...

    async def lookup_invoice(self, payment_hash: PaymentHash) -> InvoiceState: ...

    def watch_settlements(self, *, after: int) -> AsyncIterator[Settlement | None]:
        """Yield the node's settlements with an index above ``after``, in index order.

        Survives reconnects, resuming behind the last settlement yielded. ``after=0`` means
        "no index yet": CLN then delivers every settlement it ever recorded, LND only those
        from the subscription on (``SubscribeInvoices`` replays nothing for 0). So when it
        had to subscribe again without an index to resume behind, the LND adapter yields
        None: settlements may have gone unseen, look up the invoices that matter.
        """
        ...

    async def aclose(self) -> None: ...
