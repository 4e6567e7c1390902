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

    def watch_settlements(self) -> AsyncIterator[PaymentHash]:
        """Yield payment hashes of invoices as they settle; survives reconnects."""
        ...

    async def aclose(self) -> None: ...
