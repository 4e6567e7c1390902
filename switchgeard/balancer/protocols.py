"""What the balancer needs from its neighbours, declared narrowly.

The store satisfies ``BackendSource`` and ``InvoiceLedger`` structurally; the daemon passes a
``ConnectBackend`` factory that turns a backend record into an open ``LightningBackend``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from switchgeard.lightning.interface import LightningBackend
from switchgeard.store.records import Backend, InvoiceEntry
from switchgeard.units import NodeKey, PaymentHash


class BackendSource(Protocol):
    """The backend set and its version number (bumped on every change). Raises StoreError."""

    async def list_backends(self) -> list[Backend]: ...

    async def backend_version(self) -> int: ...


class SyncState(Protocol):
    """Named progress markers that survive restarts (settlement cursors). Raises StoreError."""

    async def get_sync_state(self, name: str) -> str | None: ...

    async def set_sync_state(self, name: str, value: str) -> None: ...


class SettlementLedger(SyncState, Protocol):
    """What the settlement watcher reads and writes. Raises StoreError."""

    async def mark_settled(
        self, payment_hash: PaymentHash, preimage: str, settled_at: datetime
    ) -> bool:
        """True when this call recorded the settlement; ``NotFound`` for an unknown hash."""
        ...

    async def unsettled_invoices(
        self, backend_key: NodeKey, *, expires_after: datetime, limit: int
    ) -> list[InvoiceEntry]:
        """Up to ``limit`` of the backend's unsettled entries expiring after
        ``expires_after``, newest first."""
        ...


class InvoiceLedger(SettlementLedger, Protocol):
    """Where issued invoices are recorded and followed until settled. Raises StoreError."""

    async def record_invoice(self, entry: InvoiceEntry) -> None: ...


ConnectBackend = Callable[[Backend], AbstractAsyncContextManager[LightningBackend]]
"""Opens a connection to the node a record describes; closing the context closes it.

Entering may raise ``BackendError`` (for example ``BackendAuthError`` for unreadable
credential files); the balancer then keeps the backend unhealthy and retries later.
"""
