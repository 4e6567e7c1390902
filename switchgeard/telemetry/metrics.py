"""The switchgeard instruments, on one OpenTelemetry MeterProvider.

Attributes are low-cardinality only: backend id and kind, endpoint class, route template,
outcome, error type. Never an IP address, offer id, username or amount.

Observable gauges run their callbacks wherever a reader collects: in the trio thread for
the Prometheus endpoint, in the OTLP exporter's own thread otherwise. So callbacks only read
snapshots (immutable values replaced whole); :meth:`Metrics.refresh`, called from a trio task,
asks the registered sources to publish new snapshots. Counts that a component keeps itself
(the balancer's counters, the config watcher's reloads, the LDAP syncer's failures) are
exported as observable counters over such snapshots rather than counted twice.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import MappingProxyType

import trio
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry

from switchgeard import __version__
from switchgeard.config.model import TelemetryConfig
from switchgeard.telemetry.export import otlp_reader, serve_prometheus
from switchgeard.telemetry.runtime import register_runtime_metrics

log = logging.getLogger(__name__)

SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
BACKEND_ID = "switchgear.backend.id"
BACKEND_KIND = "switchgear.backend.kind"
ENDPOINT = "switchgear.endpoint"


@dataclass(frozen=True, slots=True)
class BackendSample:
    """One backend's state for the ``up``/``enabled`` gauges (from the balancer's statistics)."""

    id: str
    kind: str
    up: bool
    enabled: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class BalancerTotals:
    """Cumulative balancer counts since start (from its counters), keyed by backend id."""

    selections: Mapping[str, int] = field(default_factory=dict)
    failovers: Mapping[str, int] = field(default_factory=dict)
    invoice_errors: Mapping[tuple[str, str], int] = field(default_factory=dict)
    """By (backend id, error type)."""
    settled: Mapping[str, int] = field(default_factory=dict)
    no_backend: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class LdapSample:
    """The LDAP syncer's state: last successful sync (unix time) and failed attempts."""

    last_success: float | None
    errors: int


@dataclass(frozen=True, slots=True)
class _RateLimitSnapshot:
    tracked_keys: Mapping[str, int]
    backend: str
    up: bool
    fail_open: int


class Metrics:
    """Records switchgeard's metrics. Build it with :func:`open_metrics` (or directly with a
    provider and the registry its Prometheus reader uses, as tests do)."""

    def __init__(self, provider: MeterProvider, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.prometheus_address: str | None = None
        """Where the Prometheus listener is bound ("host:port"), if it runs."""
        self._sources: list[Callable[[], None]] = []
        self._backends: tuple[BackendSample, ...] = ()
        self._ratelimit = _RateLimitSnapshot(MappingProxyType({}), "memory", True, 0)
        self._totals = BalancerTotals()
        self._reload_counts: tuple[int, int] = (0, 0)
        self._ldap: LdapSample | None = None
        self._identifiers: Mapping[str, int] = MappingProxyType({})
        meter = provider.get_meter("switchgeard", __version__)
        hist = meter.create_histogram
        count = meter.create_counter
        self._health = hist("switchgear.backend.health_check.duration", unit="s",
                            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS)  # fmt: skip
        self._invoice = hist("switchgear.backend.invoice.duration", unit="s",
                             explicit_bucket_boundaries_advisory=SECONDS_BUCKETS)  # fmt: skip
        self._http = hist("http.server.request.duration", unit="s",
                          explicit_bucket_boundaries_advisory=SECONDS_BUCKETS)  # fmt: skip
        self._rejections = count("switchgear.ratelimit.rejections", unit="{request}")
        self._inflight: dict[str, int] = {}
        """Calls in flight per backend: counted here (every invoice changes it twice) and
        exported by an observable up-down counter."""
        meter.create_observable_up_down_counter(
            "switchgear.backend.inflight", [self._observe_inflight], unit="{call}"
        )
        self._register_observed_counters(meter)
        gauge = meter.create_observable_gauge
        gauge("switchgear.backend.up", [self._observe_up], unit="1")
        gauge("switchgear.backend.enabled", [self._observe_enabled], unit="1")
        gauge("switchgear.ratelimit.tracked_keys", [self._observe_tracked], unit="{key}")
        gauge("switchgear.ratelimit.backend.up", [self._observe_ratelimit_up], unit="1")
        gauge("switchgear.identifiers", [self._observe_identifiers], unit="{identifier}")
        gauge("switchgear.ldap.sync.last_success", [self._observe_ldap_success], unit="s")
        meter.create_observable_counter(
            "switchgear.ratelimit.fail_open", [self._observe_fail_open], unit="{request}"
        )
        register_runtime_metrics(meter)

    # -- events (trio thread) -------------------------------------------------------------

    def health_checked(self, backend_id: str, *, outcome: str, seconds: float) -> None:
        self._health.record(seconds, {BACKEND_ID: backend_id, "outcome": outcome})

    def invoice_finished(self, backend_id: str, *, outcome: str, seconds: float) -> None:
        """``outcome`` is ok, error or timeout."""
        self._invoice.record(seconds, {BACKEND_ID: backend_id, "outcome": outcome})

    def inflight(self, backend_id: str, delta: int) -> None:
        self._inflight[backend_id] = self._inflight.get(backend_id, 0) + delta

    def ratelimit_rejected(self, *, endpoint: str, scope: str, mode: str) -> None:
        """``scope`` is total or per_client, ``mode`` enforce or shadow."""
        attributes = {ENDPOINT: endpoint, "switchgear.ratelimit.scope": scope,
                      "switchgear.ratelimit.mode": mode}  # fmt: skip
        self._rejections.add(1, attributes)

    def http_request(self, attributes: Mapping[str, str | int], seconds: float) -> None:
        """Record ``http.server.request.duration`` (attributes built by the HTTP middleware)."""
        self._http.record(seconds, dict(attributes))

    # -- snapshots ------------------------------------------------------------------------

    def add_source(self, source: Callable[[], None]) -> None:
        """Register a callable that publishes a snapshot; :meth:`refresh` calls it."""
        self._sources.append(source)

    def refresh(self) -> None:
        """Ask every source to publish (call on the trio thread)."""
        for source in self._sources:
            source()

    def publish_backends(self, samples: Iterable[BackendSample]) -> None:
        self._backends = tuple(samples)

    def publish_balancer(self, totals: BalancerTotals) -> None:
        """Replace the balancer's cumulative counts (selections, failovers, errors, ...)."""
        self._totals = totals

    def publish_reloads(self, *, ok: int, error: int) -> None:
        """Config reloads since start: accepted (``ok``) and rejected (``error``)."""
        self._reload_counts = (ok, error)

    def publish_ldap(self, sample: LdapSample | None) -> None:
        self._ldap = sample

    def publish_identifiers(self, counts: Mapping[str, int]) -> None:
        """Lightning Addresses served, by source ("db", "ldap")."""
        self._identifiers = MappingProxyType(dict(counts))

    def publish_ratelimit(
        self, tracked_keys: Mapping[str, int], *, backend: str, up: bool, fail_open: int
    ) -> None:
        frozen = MappingProxyType(dict(tracked_keys))
        self._ratelimit = _RateLimitSnapshot(frozen, backend, up, fail_open)

    def _register_observed_counters(self, meter: Meter) -> None:
        """Counters whose totals the components keep themselves: exported as they are."""
        observe = meter.create_observable_counter
        observe("switchgear.backend.selections", [self._observe_selections], unit="{selection}")
        observe("switchgear.backend.invoice.errors", [self._observe_errors], unit="{error}")
        observe("switchgear.balancer.failovers", [self._observe_failovers], unit="{failover}")
        observe("switchgear.balancer.no_backend", [self._observe_no_backend], unit="{request}")
        observe("switchgear.invoice.settled", [self._observe_settled], unit="{invoice}")
        observe("switchgear.config.reloads", [self._observe_reloads], unit="{reload}")
        observe("switchgear.ldap.sync.errors", [self._observe_ldap_errors], unit="{error}")

    def _observe_inflight(self, options: CallbackOptions) -> Iterable[Observation]:
        return _per_backend(dict(self._inflight))  # one C call: atomic for the exporter thread

    def _observe_selections(self, options: CallbackOptions) -> Iterable[Observation]:
        return _per_backend(self._totals.selections)

    def _observe_failovers(self, options: CallbackOptions) -> Iterable[Observation]:
        return _per_backend(self._totals.failovers)

    def _observe_settled(self, options: CallbackOptions) -> Iterable[Observation]:
        return _per_backend(self._totals.settled)

    def _observe_errors(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(n, {BACKEND_ID: backend, "error.type": error_type})
                for (backend, error_type), n in self._totals.invoice_errors.items()]  # fmt: skip

    def _observe_no_backend(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(self._totals.no_backend)]

    def _observe_reloads(self, options: CallbackOptions) -> Iterable[Observation]:
        ok, error = self._reload_counts
        return [Observation(ok, {"outcome": "ok"}), Observation(error, {"outcome": "error"})]

    def _observe_ldap_errors(self, options: CallbackOptions) -> Iterable[Observation]:
        sample = self._ldap
        return [] if sample is None else [Observation(sample.errors)]

    def _observe_ldap_success(self, options: CallbackOptions) -> Iterable[Observation]:
        sample = self._ldap
        if sample is None or sample.last_success is None:
            return []
        return [Observation(sample.last_success)]

    def _observe_identifiers(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(n, {"source": source}) for source, n in self._identifiers.items()]

    def _observe_up(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(int(b.up), {BACKEND_ID: b.id, BACKEND_KIND: b.kind})
                for b in self._backends]  # fmt: skip

    def _observe_enabled(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(int(b.enabled), {BACKEND_ID: b.id, BACKEND_KIND: b.kind})
                for b in self._backends]  # fmt: skip

    def _observe_tracked(self, options: CallbackOptions) -> Iterable[Observation]:
        snap = self._ratelimit
        return [Observation(n, {ENDPOINT: name}) for name, n in snap.tracked_keys.items()]

    def _observe_ratelimit_up(self, options: CallbackOptions) -> Iterable[Observation]:
        snap = self._ratelimit
        return [Observation(int(snap.up), {"switchgear.ratelimit.backend": snap.backend})]

    def _observe_fail_open(self, options: CallbackOptions) -> Iterable[Observation]:
        snap = self._ratelimit
        return [Observation(snap.fail_open, {"switchgear.ratelimit.backend": snap.backend})]


def _per_backend(counts: Mapping[str, int]) -> list[Observation]:
    return [Observation(n, {BACKEND_ID: backend}) for backend, n in counts.items()]


def build_provider(
    readers: Sequence[MetricReader], *, instance: str | None = None
) -> MeterProvider:
    """A MeterProvider with switchgeard's resource (service name, version, instance id)."""
    resource = Resource.create({
        "service.name": "switchgeard",
        "service.version": __version__,
        "service.instance.id": instance or socket.gethostname(),
    })  # fmt: skip
    return MeterProvider(resource=resource, metric_readers=list(readers))


def prometheus_reader(registry: CollectorRegistry) -> PrometheusMetricReader:
    """A Prometheus reader on ``registry`` without scope labels or ``target_info``."""
    return PrometheusMetricReader(
        registry=registry, disable_target_info=True, scope_info_enabled=False
    )


async def _run_refresh(metrics: Metrics, interval: float) -> None:
    while True:
        metrics.refresh()
        await trio.sleep(interval)


@asynccontextmanager
async def open_metrics(
    cfg: TelemetryConfig,
    *,
    refresh_interval: float = 1.0,
) -> AsyncIterator[Metrics]:
    """Open the meter provider, the Prometheus listener (unless ``prometheus_listen`` is
    empty; its bound address is then in ``metrics.prometheus_address``) and the OTLP/HTTP
    exporter (when ``otlp_endpoint`` is set).

    On exit the provider is shut down in a worker thread, which flushes a last OTLP batch.
    """
    registry = CollectorRegistry(auto_describe=True)
    readers: list[MetricReader] = [prometheus_reader(registry)]
    if cfg.otlp_endpoint:
        readers.append(otlp_reader(cfg.otlp_endpoint, interval=float(cfg.otlp_interval)))
    provider = build_provider(readers)
    metrics = Metrics(provider, registry)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_run_refresh, metrics, refresh_interval)
            if cfg.prometheus_listen:
                bound = await nursery.start(serve_prometheus, registry, cfg.prometheus_listen)
                metrics.prometheus_address = bound
            yield metrics
            nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(provider.shutdown)
