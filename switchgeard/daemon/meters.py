"""Feeding the metrics from the components' own state, without telemetry imports in them.

* The balancer keeps cumulative ``BalancerCounters`` and per-backend ``statistics()``; a
  metrics source copies them into snapshots on the trio thread (backend up/enabled,
  selections, failovers, invoice errors, no-backend, settled), read by observable
  instruments. Durations need every sample for their histograms: ``MeteredCounters`` is
  the balancer's counters object and forwards each one.
* ``switchgear.backend.inflight`` is counted around ``create_invoice`` by a thin wrapper of
  each node connection, which also registers the node's credentials with the redactor.
* The config watcher's reload counts, the LDAP syncer's state and the number of Lightning
  Addresses per source are published the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Literal, Protocol

import trio

from switchgeard.balancer import Balancer, BalancerCounters, ConnectBackend, HealthState
from switchgeard.config.watch import ConfigWatcher
from switchgeard.daemon.secrets import backend_secret_paths, register_files
from switchgeard.ldap_sync import LdapSyncer
from switchgeard.lightning import LightningBackend
from switchgeard.lightning.interface import Invoice, InvoiceState, NodeStatus, Settlement
from switchgeard.store.records import Address, Backend, Page
from switchgeard.telemetry import BackendSample, BalancerTotals, LdapSample, Metrics
from switchgeard.telemetry.redact import Redactor
from switchgeard.units import Msat, NodeKey, PaymentHash

IDENTIFIER_COUNT_INTERVAL = 60.0
"""Seconds between two counts of the store's own (local) Lightning Addresses."""


class MeteredCounters(BalancerCounters):
    """The balancer's counters, also recording each duration in the metrics' histograms."""

    __slots__ = ("_metrics",)

    def __init__(self, metrics: Metrics) -> None:
        super().__init__()
        self._metrics = metrics

    def invoice_took(self, key: NodeKey, outcome: str, seconds: float) -> None:
        super().invoice_took(key, outcome, seconds)
        self._metrics.invoice_finished(key, outcome=outcome, seconds=seconds)

    def health_check_took(self, key: NodeKey, outcome: str, seconds: float) -> None:
        super().health_check_took(key, outcome, seconds)
        self._metrics.health_checked(key, outcome=outcome, seconds=seconds)


def publish_balancer(balancer: Balancer, metrics: Metrics) -> None:
    """Copy the balancer's statistics and counters into the metrics' snapshots."""
    statuses = balancer.statistics()
    metrics.publish_backends(
        BackendSample(s.key, s.kind, up=s.health == HealthState.HEALTHY.value, enabled=s.enabled)
        for s in statuses
    )
    counters = balancer.counters
    totals = BalancerTotals(
        selections={key: n for key, n in counters.selections.items()},
        failovers={key: n for key, n in counters.failovers.items()},
        invoice_errors={key: n for key, n in counters.invoice_errors.items()},
        settled={s.key: s.invoices_settled for s in statuses},
        no_backend=counters.no_backend,
    )
    metrics.publish_balancer(totals)


def publish_reloads(watcher: ConfigWatcher, metrics: Metrics) -> None:
    stats = watcher.statistics()
    metrics.publish_reloads(ok=stats.reloads, error=stats.reload_failures)


class LdapPublisher:
    """Publishes the syncer's state; counts every failed attempt (its ``failures`` resets)."""

    def __init__(self, syncer: LdapSyncer, metrics: Metrics) -> None:
        self._syncer = syncer
        self._metrics = metrics
        self._errors = 0
        self._seen: tuple[int, datetime | None] = (0, None)

    def __call__(self) -> None:
        stats = self._syncer.statistics()
        failures, seen_at = stats.failures, stats.last_error_at
        if failures > self._seen[0]:
            self._errors += failures - self._seen[0]
        elif failures and seen_at != self._seen[1]:
            self._errors += failures  # recovered and failed again between two looks
        self._seen = (failures, seen_at)
        synced = stats.last_synced_at
        success = None if synced is None else synced.timestamp()
        self._metrics.publish_ldap(LdapSample(last_success=success, errors=self._errors))


class AddressSource(Protocol):
    async def list_addresses(
        self,
        page: Page,
        *,
        domain: str | None = None,
        source: Literal["local", "ldap"] | None = None,
    ) -> list[Address]: ...


async def count_local_addresses(store: AddressSource) -> int:
    """How many Lightning Addresses the store holds from the admin API (not from LDAP)."""
    total = 0
    while batch := await store.list_addresses(Page(start=total), source="local"):
        total += len(batch)
    return total


async def run_identifier_counter(
    store: AddressSource,
    metrics: Metrics,
    syncer: LdapSyncer | None,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Publish ``switchgear.identifiers`` by source: counted in the store every minute, and
    the LDAP syncer's count at each refresh."""
    local = [0]

    def publish() -> None:
        counts = {"db": local[0]}
        if syncer is not None:
            counts["ldap"] = syncer.statistics().addresses
        metrics.publish_identifiers(counts)

    metrics.add_source(publish)
    local[0] = await count_local_addresses(store)
    publish()
    task_status.started()
    while True:
        await trio.sleep(IDENTIFIER_COUNT_INTERVAL)
        local[0] = await count_local_addresses(store)


class _MeteredBackend:
    """A node connection that counts calls in flight on ``create_invoice``."""

    def __init__(self, inner: LightningBackend, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    @property
    def key(self) -> NodeKey:
        return self._inner.key

    @property
    def name(self) -> str:
        return self._inner.name

    async def create_invoice(
        self, amount_msat: Msat, description: str, *, description_hash_only: bool, expiry: int
    ) -> Invoice:
        self._metrics.inflight(self._inner.key, 1)
        try:
            return await self._inner.create_invoice(
                amount_msat, description, description_hash_only=description_hash_only,
                expiry=expiry,
            )  # fmt: skip
        finally:
            self._metrics.inflight(self._inner.key, -1)

    async def status(self) -> NodeStatus:
        return await self._inner.status()

    async def lookup_invoice(self, payment_hash: PaymentHash) -> InvoiceState:
        return await self._inner.lookup_invoice(payment_hash)

    def watch_settlements(self, *, after: int) -> AsyncIterator[Settlement | None]:
        return self._inner.watch_settlements(after=after)

    async def aclose(self) -> None:
        await self._inner.aclose()


def metered_connect(
    connect: ConnectBackend, metrics: Metrics, redactor: Redactor
) -> ConnectBackend:
    """Wrap the balancer's ``connect``: register the record's credentials with the log
    redactor before connecting, and count invoice calls in flight."""

    @asynccontextmanager
    async def open_metered(record: Backend) -> AsyncIterator[LightningBackend]:
        await register_files(redactor, backend_secret_paths(record))
        async with connect(record) as backend:
            yield _MeteredBackend(backend, metrics)

    return open_metered


async def start_meters(
    nursery: trio.Nursery,
    metrics: Metrics,
    balancer: Balancer,
    store: AddressSource,
    syncer: LdapSyncer | None,
) -> None:
    """Register the balancer's and the LDAP syncer's sources, and count the identifiers."""
    metrics.add_source(lambda: publish_balancer(balancer, metrics))
    if syncer is not None:
        metrics.add_source(LdapPublisher(syncer, metrics))
    await nursery.start(run_identifier_counter, store, metrics, syncer)
    metrics.refresh()
