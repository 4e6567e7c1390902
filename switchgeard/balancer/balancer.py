"""``Balancer``: picks a healthy backend for each invoice, fails over, records the result.

Invoice creation: order the candidates with the configured strategy (capacity-biased if
configured) and try them in turn; an unavailable, faulty, refused-credentials or hung
(``invoice_timeout``) node counts as a failure towards unhealthy and the next candidate is
tried at once. When every candidate failed, back off exponentially (``[balancer.retry]``),
refreshing the backend set and probing in between, until ``max_elapsed``; then
``NoHealthyBackend``. ``BackendRejected`` (the node refused the request) is raised at once.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import trio

from switchgeard.balancer.monitor import Monitor, log_transition, read_clock
from switchgeard.balancer.pool import BackendPool, Member
from switchgeard.balancer.protocols import InvoiceLedger
from switchgeard.balancer.stats import BackendStatus, BalancerCounters
from switchgeard.balancer.strategy import Candidate, make_strategy, split_by_capacity
from switchgeard.balancer.wakeup import Wakeup
from switchgeard.config.model import BalancerConfig, RetryConfig
from switchgeard.errors import BackendError, BackendRejected, NoHealthyBackend, StoreError
from switchgeard.lightning.interface import Invoice
from switchgeard.store.records import InvoiceEntry, LndGrpc
from switchgeard.units import Msat, NodeKey

log = logging.getLogger("switchgeard.balancer")


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedInvoice:
    """An invoice created on ``backend_key`` and recorded in the ledger."""

    invoice: Invoice
    backend_key: NodeKey
    backend_name: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Request:
    amount: Msat
    description: str
    description_hash_only: bool
    expiry: int


class Balancer:
    """Selection, failover and statistics over a ``BackendPool``.

    Run it with ``run_balancer``; ``apply_config`` changes settings live. ``rng`` seeds the
    random strategy (tests); ``counters`` may be a subclass that also forwards durations.
    """

    def __init__(
        self,
        pool: BackendPool,
        ledger: InvoiceLedger,
        cfg: BalancerConfig,
        *,
        rng: random.Random | None = None,
        counters: BalancerCounters | None = None,
    ) -> None:
        self.pool = pool
        self.counters = BalancerCounters() if counters is None else counters
        self.wakeup = Wakeup()
        self.monitor = Monitor(pool.connect, ledger, self.counters, lambda: self._cfg, self.wakeup)
        self._ledger = ledger
        self._cfg = cfg
        self._rng = rng
        self._strategy = make_strategy(cfg.strategy, rng=rng)
        self._store_failing = False
        self._last_on_demand = float("-inf")

    @property
    def config(self) -> BalancerConfig:
        return self._cfg

    @property
    def consistent_key(self) -> str:
        """What callers pass as ``key``: "comment" or "client_ip" (``[balancer]``)."""
        return self._cfg.consistent_key

    def apply_config(self, cfg: BalancerConfig) -> None:
        """Use ``cfg`` from now on; running loops pick up new intervals at once."""
        if cfg == self._cfg:
            return
        if cfg.strategy != self._cfg.strategy:
            self._strategy = make_strategy(cfg.strategy, rng=self._rng)
        self._cfg = cfg
        self.wakeup.poke()
        log.info("balancer settings changed (strategy %s)", cfg.strategy)

    def selectable(self, partition: str) -> bool:
        """True if at least one backend can serve ``partition`` right now."""
        return any(member.serves(partition) for member in self.pool.members())

    def statistics(self) -> list[BackendStatus]:
        """A status snapshot per backend, in the store's order."""
        return [_status(member) for member in self.pool.members()]

    async def refresh(self) -> None:
        """Re-read the backend set now. Store failures are logged once per outage, not raised."""
        try:
            await self.pool.refresh()
        except StoreError as exc:
            if not self._store_failing:
                log.warning("cannot read the backend set, keeping the current one: %s", exc)
            self._store_failing = True
            return
        if self._store_failing:
            log.info("the backend set is readable again")
        self._store_failing = False

    async def issue_invoice(
        self,
        *,
        partition: str,
        amount: Msat,
        description: str,
        reference: str,
        expiry: int,
        description_hash_only: bool = True,
        key: str | None = None,
    ) -> IssuedInvoice:
        """Create an invoice for ``amount`` on a backend serving ``partition``, and record it.

        ``key`` feeds the consistent strategy (see ``consistent_key``); ``reference`` goes
        into the ledger. Raises ``BackendRejected`` at once when a node refuses the request,
        ``NoHealthyBackend`` when no backend produced an invoice within
        ``retry.max_elapsed`` (plus at most one ``invoice_timeout``), and ``StoreError``
        if the ledger cannot record the invoice.
        """
        cfg = self._cfg
        request = _Request(
            amount=amount,
            description=description,
            description_hash_only=description_hash_only,
            expiry=expiry,
        )
        deadline = trio.current_time() + cfg.retry.max_elapsed
        delays = _backoff(cfg.retry)
        while True:
            member, invoice = await self._one_pass(partition, request, key, deadline)
            if member is not None and invoice is not None:
                return await self._record(member, invoice, amount, reference)
            delay = next(delays)
            if trio.current_time() + delay > deadline:
                break
            with trio.move_on_after(delay):
                await self._on_demand_refresh()
                await trio.sleep_forever()
        self.counters.no_backend += 1
        log.warning("no backend could issue an invoice in partition %r", partition)
        raise NoHealthyBackend(f"no backend could issue an invoice in partition {partition!r}")

    async def _one_pass(
        self, partition: str, request: _Request, key: str | None, deadline: float
    ) -> tuple[Member | None, Invoice | None]:
        tried = 0
        for member in self._ordered(partition, request.amount, key):
            if tried and trio.current_time() >= deadline:
                break
            if not member.serves(partition):
                continue
            tried += 1
            invoice = await self._attempt(member, request)
            if invoice is not None:
                return member, invoice
        return None, None

    def _ordered(self, partition: str, amount: Msat, key: str | None) -> list[Member]:
        members = {m.key: m for m in self.pool.members() if m.serves(partition)}
        candidates = [Candidate(m.key, m.record.weight) for m in members.values()]
        bias = self._cfg.capacity_bias
        if bias is not None:
            inbound = {m.key: m.health.inbound_capacity for m in members.values()}
            preferred, rest = split_by_capacity(candidates, inbound, amount, bias)
            if preferred and rest:
                first = self._strategy.order(partition, preferred, key)
                rest.sort(key=lambda c: (-c.weight, c.key))
                return [members[k] for k in first] + [members[c.key] for c in rest]
        return [members[k] for k in self._strategy.order(partition, candidates, key)]

    async def _attempt(self, member: Member, request: _Request) -> Invoice | None:
        client = member.client
        if client is None:
            return None
        cfg = self._cfg
        self.counters.selections[member.key] += 1
        started = trio.current_time()
        error_type, reason = "timeout", f"no invoice within {cfg.invoice_timeout:g}s"
        with trio.move_on_after(cfg.invoice_timeout):
            try:
                invoice = await client.create_invoice(
                    request.amount,
                    request.description,
                    description_hash_only=request.description_hash_only,
                    expiry=request.expiry,
                )
            except BackendRejected:
                self._count_error(member, "BackendRejected", "error", started)
                raise
            except BackendError as exc:
                error_type, reason = type(exc).__name__, exc.reason
            else:
                self.counters.invoice_took(member.key, "ok", trio.current_time() - started)
                log_transition(member, member.health.invoice_succeeded(read_clock(), cfg.health))
                return invoice
        self._failed(member, error_type, reason, started)
        return None

    def _failed(self, member: Member, error_type: str, reason: str, started: float) -> None:
        outcome = "timeout" if error_type == "timeout" else "error"
        self._count_error(member, error_type, outcome, started)
        self.counters.failovers[member.key] += 1
        member.counters.failed += 1
        log.info("invoice on backend %s failed (%s), trying the next one", member.label, reason)
        transition = member.health.invoice_failed(reason, read_clock(), self._cfg.health)
        log_transition(member, transition)

    def _count_error(self, member: Member, error_type: str, outcome: str, started: float) -> None:
        self.counters.invoice_errors[(member.key, error_type)] += 1
        self.counters.invoice_took(member.key, outcome, trio.current_time() - started)

    async def _record(
        self, member: Member, invoice: Invoice, amount: Msat, reference: str
    ) -> IssuedInvoice:
        entry = InvoiceEntry(
            payment_hash=invoice.payment_hash,
            backend_key=member.key,
            reference=reference,
            amount_msat=amount,
            bolt11=invoice.bolt11,
            created_at=datetime.now(UTC),
            expires_at=invoice.expires_at,
        )
        await self._ledger.record_invoice(entry)
        member.counters.issued += 1
        return IssuedInvoice(
            invoice=invoice, backend_key=member.key, backend_name=member.record.name
        )

    async def _on_demand_refresh(self) -> None:
        """Between failed passes: refresh the set and probe now, at most once per ``initial``."""
        now = trio.current_time()
        if now - self._last_on_demand < self._cfg.retry.initial:
            return
        self._last_on_demand = now
        await self.refresh()
        self.wakeup.poke()


def _backoff(cfg: RetryConfig) -> Iterator[float]:
    delay = float(cfg.initial)
    while True:
        yield min(delay, cfg.max_interval)
        delay = min(delay * cfg.multiplier, cfg.max_interval)


def _status(member: Member) -> BackendStatus:
    record, health = member.record, member.health
    return BackendStatus(
        key=member.key,
        name=record.name,
        kind="lnd" if isinstance(record.implementation, LndGrpc) else "cln",
        url=record.implementation.url,
        partitions=record.partitions,
        weight=record.weight,
        enabled=record.enabled,
        health=health.state.value,
        health_since=health.since,
        ejected=health.ejected(trio.current_time()),
        last_check=health.last_check,
        latency=health.latency,
        last_error=health.last_error,
        inbound_capacity=health.inbound_capacity,
        invoices_issued=member.counters.issued,
        invoices_failed=member.counters.failed,
        invoices_settled=member.counters.settled,
        selectable_in=frozenset(p for p in record.partitions if member.serves(p)),
    )
