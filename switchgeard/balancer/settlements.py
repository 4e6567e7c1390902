"""Settlement watching: a connected node's settlements reach the invoice ledger, none lost.

``SettlementWatcher.run`` serves one connection with three loops:

* the stream: ``watch_settlements`` resumed behind the node's cursor saved in the store
  (``sync_state`` row ``settlements:<node key>``), restarted with backoff when the node or
  the store fails. The cursor moves past a settlement only once the ledger has it.
* the saver: writes the cursor every ``CURSOR_SAVE_INTERVAL`` while it moves, and once
  more when the connection closes. A crash in between replays the last few settlements
  (marking them again changes nothing); none is skipped.
* the reconciler: after each (re)start of the stream, and whenever the stream reports a gap
  it cannot replay, asks the node about the newest ``RECONCILE_LIMIT`` unsettled ledger
  entries of this backend and records those it has settled. That closes what no replay
  covers: LND replays nothing while there is no cursor yet, so settlements made while
  such a stream was down are found here.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta

import trio

from switchgeard.balancer.pool import Member
from switchgeard.balancer.protocols import SettlementLedger, SyncState
from switchgeard.errors import BackendError, BackendRejected, InvalidInput, NotFound, StoreError
from switchgeard.lightning.interface import LightningBackend
from switchgeard.lightning.watch import Backoff
from switchgeard.units import NodeKey, PaymentHash

log = logging.getLogger("switchgeard.balancer")

WATCH_RESTART_INITIAL = 1.0
WATCH_RESTART_MAX = 60.0
CURSOR_PREFIX = "settlements:"
CURSOR_SAVE_INTERVAL = 5.0
"""Seconds between cursor writes while settlements arrive: one write per burst, not one
per settlement."""
CURSOR_SAVE_TIMEOUT = 5.0
"""How long the last cursor write may hold up closing a connection."""
RECONCILE_LIMIT = 500
"""Unsettled ledger entries looked up on the node at each (re)start of a watcher."""
RECONCILE_GRACE = timedelta(hours=1)
"""Entries that expired this recently are looked up too: one may have been paid just in
time while the watcher was away."""


def cursor_name(key: NodeKey) -> str:
    """The ``sync_state`` name under which a node's settlement cursor is saved."""
    return f"{CURSOR_PREFIX}{key}"


class SettlementCursor:
    """The index of the last settlement the ledger has from one node (``position``),
    read from and written to the store's sync state."""

    def __init__(self, state: SyncState, key: NodeKey) -> None:
        self._state = state
        self.name = cursor_name(key)
        self.position: int | None = None
        self._saved: int | None = None

    async def load(self) -> int:
        """The position; read from the store the first time (0 when none was saved)."""
        if self.position is None:
            self.position = self._saved = _parse(
                self.name, await self._state.get_sync_state(self.name)
            )
        return self.position

    def advance(self, index: int) -> None:
        """The ledger has every settlement up to ``index`` now."""
        if self.position is None or index > self.position:
            self.position = index

    async def save(self) -> None:
        """Write the position if it moved since it was read or last written."""
        position = self.position
        if position is not None and position != self._saved:
            await self._state.set_sync_state(self.name, str(position))
            self._saved = position


def _parse(name: str, value: str | None) -> int:
    if value is None:
        return 0
    if value.isascii() and value.isdigit():
        return int(value)
    log.warning("sync state %s holds %r, not a settle index; watching from 0", name, value)
    return 0


class _Restarts:
    """Pauses between restarts of a failing loop: 1 s doubling up to 60 s. Only the first
    failure after a success (``reset``) is a warning, not every minute of an outage."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._backoff = Backoff(WATCH_RESTART_INITIAL, WATCH_RESTART_MAX)

    def reset(self) -> None:
        self._backoff.reset()

    async def failed(self, reason: str) -> None:
        level = logging.WARNING if self._backoff.fresh else logging.INFO
        delay = self._backoff.delay
        log.log(level, "%s stopped (%s); restarting in %gs", self._what, reason, delay)
        await self._backoff.wait()


class SettlementWatcher:
    """Records in the ledger what ``member``'s node settles, following it over ``client``."""

    def __init__(self, ledger: SettlementLedger, member: Member, client: LightningBackend) -> None:
        self._ledger = ledger
        self._member = member
        self._client = client
        self.cursor = SettlementCursor(ledger, member.key)
        self._reconcile_wanted = trio.Event()

    async def run(self) -> None:
        """Watch, reconcile and save the cursor until cancelled; the cursor is saved on the
        way out too. Never raises ``BackendError`` or ``StoreError``."""
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._save_loop)
                nursery.start_soon(self._reconcile_loop)
                await self._stream_loop()
        finally:
            await self._last_save()

    async def _stream_loop(self) -> None:
        restarts = _Restarts(f"settlement watcher for {self._member.label}")
        while True:
            started = trio.current_time()
            try:
                await self._stream()
                reason = "the stream ended"
            except (BackendError, StoreError) as exc:
                reason = str(exc)
            if trio.current_time() - started > WATCH_RESTART_MAX:
                restarts.reset()
            await restarts.failed(reason)

    async def _stream(self) -> None:
        """Follow the node's settlements behind the cursor; each (re)start reconciles."""
        after = await self.cursor.load()
        self._reconcile_wanted.set()
        settlements = self._client.watch_settlements(after=after)
        try:
            async for settlement in settlements:
                if settlement is None:  # a gap the node cannot replay
                    self._reconcile_wanted.set()
                    continue
                if settlement.payment_hash is not None:
                    await self._settle(settlement.payment_hash)
                self.cursor.advance(settlement.index)
        finally:
            if isinstance(settlements, AsyncGenerator):
                await settlements.aclose()

    async def _reconcile_loop(self) -> None:
        restarts = _Restarts(f"settlement reconciliation for {self._member.label}")
        while True:
            await self._reconcile_wanted.wait()
            self._reconcile_wanted = trio.Event()
            try:
                await self._reconcile()
            except (BackendError, StoreError) as exc:
                self._reconcile_wanted.set()  # once more after the pause
                await restarts.failed(str(exc))
            else:
                restarts.reset()

    async def _reconcile(self) -> None:
        """Record the settlements of this backend's newest unsettled, unexpired entries."""
        entries = await self._ledger.unsettled_invoices(
            self._member.key,
            expires_after=datetime.now(UTC) - RECONCILE_GRACE,
            limit=RECONCILE_LIMIT,
        )
        found = 0
        for entry in entries:
            try:
                if await self._settle(entry.payment_hash):
                    found += 1
            except BackendRejected as exc:  # the node does not know it (any more)
                log.debug("backend %s: %s", self._member.label, exc)
        if found:
            log.info(
                "backend %s: %d settlement(s) the watcher had missed recorded by reconciling",
                self._member.label,
                found,
            )

    async def _settle(self, payment_hash: PaymentHash) -> bool:
        """Record the settlement the node reports for ``payment_hash``; True when this call
        recorded it (so each settlement is counted once)."""
        state = await self._client.lookup_invoice(payment_hash)
        if not state.settled or state.preimage is None:
            return False
        try:
            settled = await self._ledger.mark_settled(
                payment_hash, state.preimage, datetime.now(UTC)
            )
        except NotFound:
            return False  # an invoice someone else created on the same node
        except InvalidInput as exc:
            log.warning("backend %s reported a bad settlement: %s", self._member.label, exc)
            return False
        if settled:
            self._member.count_settled()
        return settled

    async def _save_loop(self) -> None:
        failing = False
        while True:
            await trio.sleep(CURSOR_SAVE_INTERVAL)
            try:
                await self.cursor.save()
            except StoreError as exc:
                level = logging.INFO if failing else logging.WARNING
                log.log(level, "cannot save the settlement cursor %s: %s", self.cursor.name, exc)
                failing = True
            else:
                failing = False

    async def _last_save(self) -> None:
        with trio.move_on_after(CURSOR_SAVE_TIMEOUT, shield=True):
            try:
                await self.cursor.save()
            except StoreError as exc:
                log.info("cannot save the settlement cursor %s: %s", self.cursor.name, exc)
