"""Per-backend health: consecutive-observation thresholds and passive ejection.

``HealthTracker`` is pure state: callers pass in the clock readings and thresholds, and get
back the transition (if any) to log. Probes (``status()``) and invoice attempts both feed it.
A backend that turns unhealthy because *invoices* failed is also ejected for a while
(doubling per consecutive ejection), so a node whose status call works but whose invoices
do not cannot flap back in on every probe.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from switchgeard.config.model import HealthConfig
from switchgeard.units import Msat


class HealthState(enum.Enum):
    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of health state, to be logged once."""

    old: HealthState
    new: HealthState
    reason: str | None


@dataclass(slots=True)
class Clock:
    """One reading of both clocks: ``mono`` (trio) drives logic, ``wall`` is for display."""

    mono: float
    wall: datetime


class HealthTracker:
    """Health of one backend. New backends start ``UNKNOWN`` (not selectable)."""

    def __init__(self, created: datetime) -> None:
        self.state = HealthState.UNKNOWN
        self.since = created
        self.last_check: datetime | None = None
        self.latency: float | None = None
        self.last_error: str | None = None
        self.inbound_capacity: Msat | None = None
        self._successes = 0
        self._failures = 0
        self._invoice_failures = 0
        self._ejections = 0
        self._ejected_until = float("-inf")

    @property
    def healthy(self) -> bool:
        return self.state is HealthState.HEALTHY

    def ejected(self, now: float) -> bool:
        return now < self._ejected_until

    def probe_succeeded(
        self, inbound: Msat, latency: float, clock: Clock, cfg: HealthConfig
    ) -> Transition | None:
        self.last_check, self.latency = clock.wall, latency
        self.inbound_capacity = inbound
        self.last_error = None
        return self._success(clock, cfg)

    def probe_failed(
        self, error: str, latency: float, clock: Clock, cfg: HealthConfig
    ) -> Transition | None:
        self.last_check, self.latency = clock.wall, latency
        return self._failure(error, clock, cfg)

    def invoice_succeeded(self, clock: Clock, cfg: HealthConfig) -> Transition | None:
        self._invoice_failures = self._ejections = 0
        return self._success(clock, cfg)

    def invoice_failed(self, error: str, clock: Clock, cfg: HealthConfig) -> Transition | None:
        """Count a failed invoice, in the shared streak and in an invoice-only streak that
        successful probes do not reset (only a good invoice does). Reaching
        ``unhealthy_after`` in either makes the backend unhealthy and ejects it."""
        self._invoice_failures += 1
        transition = self._failure(error, clock, cfg)
        if self._invoice_failures < cfg.unhealthy_after and transition is None:
            return transition
        self._invoice_failures = 0
        if not self.ejected(clock.mono):
            self._ejections += 1
            hold = cfg.ejection * 2 ** min(self._ejections - 1, 16)
            self._ejected_until = clock.mono + min(hold, cfg.max_ejection)
        if self.state is HealthState.UNHEALTHY:
            return transition
        return self._flip(HealthState.UNHEALTHY, error, clock)

    def _success(self, clock: Clock, cfg: HealthConfig) -> Transition | None:
        self._failures = 0
        self._successes += 1
        if self.state is HealthState.HEALTHY or self.ejected(clock.mono):
            return None
        if self._successes < cfg.healthy_after:
            return None
        return self._flip(HealthState.HEALTHY, None, clock)

    def _failure(self, error: str, clock: Clock, cfg: HealthConfig) -> Transition | None:
        self.last_error = error
        self._successes = 0
        self._failures += 1
        if self.state is HealthState.UNHEALTHY or self._failures < cfg.unhealthy_after:
            return None
        return self._flip(HealthState.UNHEALTHY, error, clock)

    def _flip(self, new: HealthState, reason: str | None, clock: Clock) -> Transition:
        old, self.state, self.since = self.state, new, clock.wall
        self._successes = self._failures = 0
        return Transition(old, new, reason)
