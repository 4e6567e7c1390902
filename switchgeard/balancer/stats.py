"""What the balancer reports: per-backend status snapshots and cumulative counters.

``BackendStatus`` feeds the admin ``/status`` and the LNURL ``/health/full``; the counters in
``BalancerCounters`` only ever grow, so telemetry can read them at any time and export the
``switchgear.backend.*`` and ``switchgear.balancer.*`` metrics.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from switchgeard.units import Msat, NodeKey


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendStatus:
    """A snapshot of one backend. ``selectable_in`` lists the partitions it serves right now."""

    key: NodeKey
    name: str | None
    kind: str
    url: str
    partitions: frozenset[str]
    weight: int
    enabled: bool
    health: str
    health_since: datetime
    ejected: bool
    last_check: datetime | None
    latency: float | None
    last_error: str | None
    inbound_capacity: Msat | None
    invoices_issued: int
    invoices_failed: int
    invoices_settled: int
    selectable_in: frozenset[str]


@dataclass(slots=True)
class MemberCounters:
    """Invoice counts for one backend since this process started."""

    issued: int = 0
    failed: int = 0
    settled: int = 0


@dataclass(slots=True)
class DurationTotals:
    """Count, sum and maximum of observed durations, in seconds."""

    count: int = 0
    total: float = 0.0
    maximum: float = 0.0

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        self.maximum = max(self.maximum, seconds)


@dataclass(slots=True)
class BalancerCounters:
    """Cumulative counters, keyed by backend and (where telemetry wants it) outcome.

    - ``selections[key]``: the balancer picked this backend for an attempt;
    - ``failovers[key]``: an attempt on this backend failed and the balancer moved on;
    - ``no_backend``: requests that ended in ``NoHealthyBackend``;
    - ``invoice_errors[(key, error_type)]``: failed attempts by exception class or "timeout";
    - ``invoice_seconds[(key, outcome)]`` with outcome ok, error or timeout;
    - ``health_check_seconds[(key, outcome)]`` with outcome ok or error.
    """

    selections: Counter[NodeKey] = field(default_factory=Counter)
    failovers: Counter[NodeKey] = field(default_factory=Counter)
    no_backend: int = 0
    invoice_errors: Counter[tuple[NodeKey, str]] = field(default_factory=Counter)
    invoice_seconds: dict[tuple[NodeKey, str], DurationTotals] = field(default_factory=dict)
    health_check_seconds: dict[tuple[NodeKey, str], DurationTotals] = field(default_factory=dict)

    def invoice_took(self, key: NodeKey, outcome: str, seconds: float) -> None:
        self.invoice_seconds.setdefault((key, outcome), DurationTotals()).observe(seconds)

    def health_check_took(self, key: NodeKey, outcome: str, seconds: float) -> None:
        self.health_check_seconds.setdefault((key, outcome), DurationTotals()).observe(seconds)
