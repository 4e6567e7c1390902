"""The life of one pool member: connect, probe ``status()`` periodically, watch settlements.

Runs inside the member's task (see ``pool.BackendPool``). A connection that cannot be opened
counts as a failed probe and is retried every ``health.interval``. Each connection also runs
a ``SettlementWatcher`` (``settlements.py``), which records what the node settles.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import trio

from switchgeard.balancer.health import Clock, HealthState, Transition
from switchgeard.balancer.pool import Member
from switchgeard.balancer.protocols import ConnectBackend, SettlementLedger
from switchgeard.balancer.settlements import SettlementWatcher
from switchgeard.balancer.stats import BalancerCounters
from switchgeard.balancer.wakeup import Wakeup
from switchgeard.config.model import BalancerConfig
from switchgeard.errors import BackendAuthError, BackendError
from switchgeard.lightning.interface import LightningBackend, NodeStatus

log = logging.getLogger("switchgeard.balancer")


def read_clock() -> Clock:
    return Clock(trio.current_time(), datetime.now(UTC))


def log_transition(member: Member, transition: Transition | None) -> None:
    """Log a health transition once, when it happens."""
    if transition is None:
        return
    if transition.new is HealthState.HEALTHY:
        log.info("backend %s is healthy", member.label)
    else:
        log.warning("backend %s is unhealthy: %s", member.label, transition.reason)


class Monitor:
    """Serves pool members: one connection each, with a prober and a settlement watcher."""

    def __init__(
        self,
        connect: ConnectBackend,
        ledger: SettlementLedger,
        counters: BalancerCounters,
        settings: Callable[[], BalancerConfig],
        wakeup: Wakeup,
    ) -> None:
        self._connect = connect
        self._ledger = ledger
        self._counters = counters
        self._settings = settings
        self._wakeup = wakeup

    async def serve_member(self, member: Member) -> None:
        """Keep ``member`` connected, probed and watched until cancelled.

        A node that refuses our credentials gets a fresh connection (one per
        ``health.interval``), which reads the credential files again: a rotated
        macaroon or TLS certificate is picked up without touching the backend record.
        """
        while True:
            try:
                async with self._connect(member.record) as client:
                    await self._serve_connected(member, client)
            except BackendError as exc:
                health = self._settings().health
                transition = member.health.probe_failed(
                    f"cannot connect: {exc.reason}", 0.0, read_clock(), health
                )
                log_transition(member, transition)
                member.first_probe.set()
            await self._wakeup.wait(self._settings().health.interval)

    async def _serve_connected(self, member: Member, client: LightningBackend) -> None:
        """Probe and watch until the node refuses our credentials (or until cancelled)."""
        member.client = client
        try:
            async with trio.open_nursery() as nursery:
                watcher = SettlementWatcher(self._ledger, member, client)
                nursery.start_soon(watcher.run)
                await self._probe_loop(member, client)
                nursery.cancel_scope.cancel()
        finally:
            member.client = None

    async def _probe_loop(self, member: Member, client: LightningBackend) -> None:
        while not await self.probe(member, client):
            await self._wakeup.wait(self._settings().health.interval)
        log.debug(  # every interval while it lasts; the health transition is the warning
            "backend %s refused our credentials; reconnecting to read them again", member.label
        )

    async def probe(self, member: Member, client: LightningBackend) -> bool:
        """One health check, bounded by ``health.timeout``; never raises BackendError.

        Returns True when the node refused our credentials (``BackendAuthError``).
        """
        health = self._settings().health
        started = trio.current_time()
        status: NodeStatus | None = None
        error: str | None = None
        refused = False
        with trio.move_on_after(health.timeout):
            try:
                status = await client.status()
            except BackendError as exc:
                error = exc.reason
                refused = isinstance(exc, BackendAuthError)
        elapsed = trio.current_time() - started
        if status is None:
            error = error or f"health check timed out after {health.timeout:g}s"
        elif status.pubkey != member.key:
            error = f"node reports public key {status.pubkey}, expected {member.key}"
        clock = read_clock()
        if error is None and status is not None:
            transition = member.health.probe_succeeded(
                status.inbound_capacity, elapsed, clock, health
            )
        else:
            transition = member.health.probe_failed(error or "unknown", elapsed, clock, health)
        self._counters.health_check_took(member.key, "ok" if error is None else "error", elapsed)
        log_transition(member, transition)
        member.first_probe.set()
        return refused
