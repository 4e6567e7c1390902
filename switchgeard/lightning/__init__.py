"""Talking to Lightning nodes (LND, Core Lightning) and translating their errors and types.

grpclib and betterproto2 stay inside this package; nothing above it sees asyncio.
``open_bridge()`` opens the asyncio loop once; ``open_backend(endpoint, ...)`` opens one
node adapter inside it. Callers see only ``LightningBackend`` and ``BackendError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from switchgeard.config.model import LightningConfig
from switchgeard.lightning import _defaults
from switchgeard.lightning._bridge import open_bridge
from switchgeard.lightning.endpoints import ClnEndpoint, Endpoint, LndEndpoint
from switchgeard.lightning.interface import Invoice, InvoiceState, LightningBackend, NodeStatus
from switchgeard.units import NodeKey

_defaults.install()  # betterproto2 encodes without a warnings dance per field

__all__ = [
    "ClnEndpoint",
    "Endpoint",
    "Invoice",
    "InvoiceState",
    "LightningBackend",
    "LndEndpoint",
    "NodeStatus",
    "open_backend",
    "open_bridge",
]


@asynccontextmanager
async def open_backend(
    endpoint: Endpoint, *, key: NodeKey, name: str, cfg: LightningConfig
) -> AsyncIterator[LightningBackend]:
    """Open the adapter for ``endpoint`` (inside ``open_bridge()``); closed on exit.

    Credential files are read here: a missing or unreadable one raises
    ``BackendAuthError`` naming it. Connections are dialled lazily on the first call.
    """
    from switchgeard.lightning.cln import ClnBackend
    from switchgeard.lightning.lnd import LndBackend

    backend: LndBackend | ClnBackend
    if isinstance(endpoint, LndEndpoint):
        backend = LndBackend(endpoint, key=key, name=name, cfg=cfg)
    else:
        backend = ClnBackend(endpoint, key=key, name=name, cfg=cfg)
    try:
        yield backend
    finally:
        await backend.aclose()
