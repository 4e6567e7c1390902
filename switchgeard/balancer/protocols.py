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
from switchgeard.units import PaymentHash


class BackendSource(Protocol):
    """The backend set and its version number (bumped on every change). Raises StoreError."""

    async def list_backends(self) -> list[Backend]: ...

    async def backend_version(self) -> int: ...


class InvoiceLedger(Protocol):
    """Where issued invoices are recorded and marked settled. Raises StoreError."""

    async def record_invoice(self, entry: InvoiceEntry) -> None: ...

    async def mark_settled(
        self, payment_hash: PaymentHash, preimage: str, settled_at: datetime
    ) -> bool: ...


ConnectBackend = Callable[[Backend], AbstractAsyncContextManager[LightningBackend]]
"""Opens a connection to the node a record describes; closing the context closes it.

Entering may raise ``BackendError`` (for example ``BackendAuthError`` for unreadable
credential files); the balancer then keeps the backend unhealthy and retries later.
"""
