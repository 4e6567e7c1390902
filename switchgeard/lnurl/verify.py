"""LUD-21 verify: settlement of invoices this service issued, from the ledger and the node.

Only hashes in the ledger are answered, so a shared node's other invoices (and their
preimages) never leak. An unsettled entry is refreshed from the node that issued it; a
preimage is accepted only if its sha256 is the payment hash.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

import trio

from switchgeard.errors import BackendError, BackendUnavailable, DecodeError, StoreError
from switchgeard.lightning.interface import InvoiceState, LightningBackend
from switchgeard.store.records import InvoiceEntry
from switchgeard.units import NodeKey, PaymentHash

log = logging.getLogger("switchgeard.lnurl")


class InvoiceVerifier(Protocol):
    """Settlement state of an invoice this service issued; raises ``NotFound`` otherwise."""

    async def verify_invoice(self, payment_hash: PaymentHash) -> InvoiceEntry: ...


class InvoiceLedger(Protocol):
    async def get_invoice(self, payment_hash: PaymentHash) -> InvoiceEntry: ...

    async def mark_settled(
        self, payment_hash: PaymentHash, preimage: str, settled_at: datetime
    ) -> bool: ...


class SettlementLookup(Protocol):
    """Asks the node with ``key`` about an invoice. Raises ``BackendError``."""

    async def lookup_invoice(self, key: NodeKey, payment_hash: PaymentHash) -> InvoiceState: ...

    def recorded(self, key: NodeKey) -> None:
        """A settlement on ``key``'s node was recorded here first (the settlement watcher
        counts the ones it records): the node's settled count includes both."""


class ConnectedNode(Protocol):
    @property
    def client(self) -> LightningBackend | None: ...

    def count_settled(self) -> None: ...


class NodeDirectory(Protocol):
    """The balancer's pool: its member for a node key, if any."""

    def get(self, key: NodeKey) -> ConnectedNode | None: ...


class PoolSettlements:
    """``SettlementLookup`` through the balancer pool's open connections."""

    def __init__(self, pool: NodeDirectory) -> None:
        self._pool = pool

    async def lookup_invoice(self, key: NodeKey, payment_hash: PaymentHash) -> InvoiceState:
        member = self._pool.get(key)
        client = None if member is None else member.client
        if client is None:
            raise BackendUnavailable("not connected", key=key)
        return await client.lookup_invoice(payment_hash)

    def recorded(self, key: NodeKey) -> None:
        member = self._pool.get(key)
        if member is not None:
            member.count_settled()


def parse_payment_hash(text: str) -> PaymentHash:
    lowered = text.lower()
    if len(lowered) != 64 or any(c not in "0123456789abcdef" for c in lowered):
        raise DecodeError("payment hash must be 64 hex characters")
    return PaymentHash(lowered)


def preimage_matches(preimage: str, payment_hash: str) -> bool:
    try:
        return hashlib.sha256(bytes.fromhex(preimage)).hexdigest() == payment_hash
    except ValueError:
        return False


class LedgerVerifier:
    """``InvoiceVerifier`` over the ledger, refreshing unsettled entries from their node.

    A node that fails or takes longer than ``timeout`` seconds leaves the ledger's answer
    in force (still unsettled); the wallet simply asks again later.
    """

    def __init__(
        self,
        ledger: InvoiceLedger,
        nodes: SettlementLookup,
        *,
        timeout: float = 2.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._nodes = nodes
        self._timeout = timeout
        self._clock = clock

    async def verify_invoice(self, payment_hash: PaymentHash) -> InvoiceEntry:
        entry = await self._ledger.get_invoice(payment_hash)
        if entry.settled_at is not None:
            return entry
        state = await self._node_state(entry)
        if state is None or not state.settled or state.preimage is None:
            return entry
        if not preimage_matches(state.preimage, payment_hash):
            log.warning(
                "backend %s reported a wrong preimage for %s", entry.backend_key, payment_hash
            )
            return entry
        settled_at = self._clock()
        if await self._ledger.mark_settled(payment_hash, state.preimage, settled_at):
            self._nodes.recorded(entry.backend_key)
        return await self._ledger.get_invoice(payment_hash)

    async def _node_state(self, entry: InvoiceEntry) -> InvoiceState | None:
        with trio.move_on_after(self._timeout):
            try:
                return await self._nodes.lookup_invoice(entry.backend_key, entry.payment_hash)
            except (BackendError, StoreError) as exc:
                log.info("cannot refresh invoice %s: %s", entry.payment_hash, exc)
        return None
