"""Fakes for the live-state ports of the admin app: balancer health and config reloads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from switchgeard.admin.ports import ReloadView
from switchgeard.units import NodeKey

AT = datetime(2026, 1, 2, 4, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthView:
    """What the balancer's ``BackendStatus`` carries for ``/status``."""

    key: NodeKey
    health: str
    health_since: datetime | None = None
    last_check: datetime | None = None
    latency: float | None = None
    last_error: str | None = None
    inbound_capacity: int | None = None
    invoices_issued: int = 0
    invoices_failed: int = 0
    invoices_settled: int = 0
    selectable_in: frozenset[str] = frozenset()


class FakeHealth:
    def __init__(self) -> None:
        self.views: list[HealthView] = []
        self.ok_partitions = {"default"}

    def statistics(self) -> Sequence[HealthView]:
        return self.views

    def selectable(self, partition: str) -> bool:
        return partition in self.ok_partitions


class FakeReloader:
    def __init__(self) -> None:
        self.last: ReloadView | None = None
        self.next_error: str | None = None
        self.calls: list[bool] = []

    async def reload(self, *, wait: bool) -> ReloadView | None:
        self.calls.append(wait)
        self.last = ReloadView(at=AT, ok=self.next_error is None, error=self.next_error)
        return self.last if wait else None

    def last_reload(self) -> ReloadView | None:
        return self.last
