"""HealthTracker: consecutive thresholds, transitions reported once, passive ejection."""

from __future__ import annotations

from datetime import UTC, datetime

from switchgeard.balancer.health import Clock, HealthState, HealthTracker, Transition
from switchgeard.config.model import HealthConfig, Seconds
from switchgeard.units import Msat

CFG = HealthConfig(
    healthy_after=2, unhealthy_after=3, ejection=Seconds(10.0), max_ejection=Seconds(25.0)
)
WALL = datetime(2026, 1, 1, tzinfo=UTC)


def at(mono: float) -> Clock:
    return Clock(mono, WALL)


def ok(tracker: HealthTracker, mono: float = 0.0) -> Transition | None:
    return tracker.probe_succeeded(Msat(5000), 0.01, at(mono), CFG)


def fail(tracker: HealthTracker, mono: float = 0.0) -> Transition | None:
    return tracker.probe_failed("connection refused", 0.02, at(mono), CFG)


def test_starts_unknown_and_needs_consecutive_successes() -> None:
    tracker = HealthTracker(WALL)
    assert tracker.state is HealthState.UNKNOWN and not tracker.healthy
    assert ok(tracker) is None
    assert fail(tracker) is None  # resets the success streak
    assert ok(tracker) is None
    assert ok(tracker) == Transition(HealthState.UNKNOWN, HealthState.HEALTHY, None)
    assert tracker.healthy and tracker.inbound_capacity == 5000 and tracker.last_error is None
    assert ok(tracker) is None  # reported once


def test_unhealthy_after_consecutive_failures_keeps_capacity_and_error() -> None:
    tracker = HealthTracker(WALL)
    ok(tracker), ok(tracker)
    assert fail(tracker) is None and fail(tracker) is None
    assert ok(tracker) is None  # success resets the failure streak
    assert fail(tracker) is None and fail(tracker) is None
    transition = fail(tracker)
    assert transition == Transition(
        HealthState.HEALTHY, HealthState.UNHEALTHY, "connection refused"
    )
    assert fail(tracker) is None
    assert tracker.last_error == "connection refused" and tracker.latency == 0.02
    assert tracker.inbound_capacity == 5000


def test_invoice_failures_eject_with_doubling_hold() -> None:
    tracker = HealthTracker(WALL)
    ok(tracker), ok(tracker)
    for _ in range(3):
        tracker.invoice_failed("bad invoice", at(0.0), CFG)
    assert tracker.state is HealthState.UNHEALTHY and tracker.ejected(9.9)
    assert ok(tracker, 5.0) is None and ok(tracker, 6.0) is None  # held out while ejected
    assert ok(tracker, 10.0) is not None and tracker.healthy  # the streak counted meanwhile
    for _ in range(3):
        tracker.invoice_failed("bad invoice", at(20.0), CFG)
    assert tracker.ejected(39.9) and not tracker.ejected(40.0)  # 2 × 10 s
    ok(tracker, 40.0), ok(tracker, 41.0)
    for _ in range(3):
        tracker.invoice_failed("bad invoice", at(50.0), CFG)
    assert tracker.ejected(74.9) and not tracker.ejected(75.0)  # capped at 25 s


def test_invoice_success_resets_the_ejection_count() -> None:
    tracker = HealthTracker(WALL)
    ok(tracker), ok(tracker)
    for _ in range(3):
        tracker.invoice_failed("timeout", at(0.0), CFG)
    ok(tracker, 10.0), ok(tracker, 11.0)
    tracker.invoice_succeeded(at(12.0), CFG)
    for _ in range(3):
        tracker.invoice_failed("timeout", at(20.0), CFG)
    assert not tracker.ejected(30.0)  # back to the base hold


def test_good_probes_do_not_hide_failing_invoices() -> None:
    tracker = HealthTracker(WALL)
    ok(tracker), ok(tracker)
    assert tracker.invoice_failed("wrong amount", at(0.0), CFG) is None
    ok(tracker, 0.5)
    assert tracker.invoice_failed("wrong amount", at(1.0), CFG) is None
    ok(tracker, 1.5)
    transition = tracker.invoice_failed("wrong amount", at(2.0), CFG)
    assert transition == Transition(HealthState.HEALTHY, HealthState.UNHEALTHY, "wrong amount")
    assert tracker.ejected(11.9) and tracker.last_error == "wrong amount"
