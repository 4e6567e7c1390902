"""The limiter: which limits apply to a request, asked of one store, with reload and sweep."""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import trio

from switchgeard.config.model import RateLimitConfig
from switchgeard.errors import ConfigError
from switchgeard.ratelimit.gcra import GcraTable
from switchgeard.ratelimit.identity import Client, ClientResolver
from switchgeard.ratelimit.policy import CLASSES, Policy, TableId, compile_policy
from switchgeard.ratelimit.rules import Rule
from switchgeard.ratelimit.stores import BoundTables, Check, MemoryStore, RedisStore, Store
from switchgeard.telemetry.metrics import Metrics

activity = logging.getLogger("switchgeard.lnurl.ratelimit")
"""Rejections are wallet behaviour: they go to the LNURL activity log, sampled under flood."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one request.

    ``limited`` says a limit was exceeded; ``allowed`` is False only when that happened in
    ``enforce`` mode. ``retry_after`` is in seconds, ``scope`` names the tightest limit.
    """

    allowed: bool
    limited: bool = False
    retry_after: float = 0.0
    scope: str = ""

    @property
    def retry_after_header(self) -> str:
        """``Retry-After`` value: whole seconds, rounded up, at least 1."""
        return str(max(1, math.ceil(self.retry_after)))


ALLOWED = Decision(allowed=True)


class _Plan(NamedTuple):
    """An endpoint class's tables, looked up once per policy: per-client table, total check,
    and for the in-process store (without overrides) the tables themselves."""

    per_client: TableId | None
    total: Check | None
    endpoint: str
    tables: BoundTables | None


@dataclass(frozen=True, slots=True)
class LimiterStatistics:
    """A snapshot: tracked keys per endpoint class, the store in use and fail-open events."""

    backend: str
    tracked_keys: Mapping[str, int] = field(default_factory=dict)
    backend_up: bool = True
    fail_open: int = 0


class Limiter:
    """Applies per endpoint class limits. Create it with :func:`open_limiter`."""

    def __init__(
        self,
        cfg: RateLimitConfig,
        *,
        trusted_proxies: Sequence[str],
        store: Store,
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._memory = store if isinstance(store, MemoryStore) else None
        self._policy = compile_policy(cfg)
        self._plan(self._policy)
        self._resolver = _resolver(cfg, trusted_proxies)
        self._metrics = metrics
        self._log_budget = GcraTable(Rule(interval=0.1, burst=20), cap=1)
        self._suppressed = 0

    @property
    def policy(self) -> Policy:
        return self._policy

    def identify(self, scope: Mapping[str, Any]) -> Client:
        """The client of an ASGI HTTP scope (see :mod:`switchgeard.ratelimit.identity`)."""
        return self._resolver.resolve(scope)

    async def check(self, endpoint: str, client: Client) -> Decision:
        """Charge one request of ``client`` to ``endpoint``'s limits, or say why not."""
        policy = self._policy
        if not policy.enabled or policy.exempted(client):
            return ALLOWED
        plan = self._plans.get(endpoint) or self._plans["default"]
        if plan.tables is not None:  # in-process tables, bound when the policy was planned
            wait, index = plan.tables.charge(client.key)
            if index < 0:
                return ALLOWED
            return self._limited(plan, plan.tables.scopes[index], client, wait)
        checks = self._checks(policy, plan, client)
        if not checks:
            return ALLOWED
        wait, index = await self._store.check(checks, cap=policy.cap)
        if index < 0:
            return ALLOWED
        scope = "total" if checks[index].table.scope == "total" else "per_client"
        return self._limited(plan, scope, client, wait)

    def _limited(self, plan: _Plan, scope: str, client: Client, wait: float) -> Decision:
        """Count and log a request over ``scope``'s limit; refused unless in shadow mode."""
        shadow = self._policy.shadow
        self._record(plan.endpoint, scope, client, wait, shadow)
        return Decision(allowed=shadow, limited=True, retry_after=wait, scope=scope)

    def reconfigure(self, cfg: RateLimitConfig, *, trusted_proxies: Sequence[str]) -> None:
        """Apply new limits; unchanged tables keep their state. ConfigError keeps the old ones."""
        policy = compile_policy(cfg)
        resolver = _resolver(cfg, trusted_proxies)
        self._store.retain(policy.table_ids(), cap=policy.cap)
        self._policy, self._resolver = policy, resolver
        self._plan(policy)

    def sweep(self) -> int:
        """Drop expired keys from every table; returns how many."""
        return self._store.sweep()

    def statistics(self) -> LimiterStatistics:
        store = self._store
        return LimiterStatistics(
            backend=store.name,
            tracked_keys={name: store.tracked_keys().get(name, 0) for name in CLASSES},
            backend_up=getattr(store, "up", True),
            fail_open=getattr(store, "fail_open", 0),
        )

    def _checks(self, policy: Policy, plan: _Plan, client: Client) -> list[Check]:
        per_client, total = plan.per_client, plan.total
        if policy.overrides:
            scope, rule = policy.per_client(plan.endpoint, client)
            per_client = None if rule is None else self._table_id(plan.endpoint, scope, rule)
        checks = [] if per_client is None else [Check(per_client, client.key)]
        if total is not None:
            checks.append(total)
        return checks

    def _plan(self, policy: Policy) -> None:
        """Build the table ids of a policy once, so a request only looks them up."""
        self._tables: dict[tuple[str, str], TableId] = {}
        self._plans: dict[str, _Plan] = {}
        for endpoint, limits in policy.classes.items():
            per_client = total = None
            if limits.per_client is not None:
                per_client = self._table_id(endpoint, "per_client", limits.per_client)
            if limits.total is not None:
                total = Check(self._table_id(endpoint, "total", limits.total), "*")
            tables = None
            if self._memory is not None and not policy.overrides:
                tables = self._memory.bind(per_client, total, cap=policy.cap)
            self._plans[endpoint] = _Plan(per_client, total, endpoint, tables)

    def _table_id(self, endpoint: str, scope: str, rule: Rule) -> TableId:
        tid = self._tables.get((endpoint, scope))
        if tid is None or tid.rule != rule:
            tid = self._tables[(endpoint, scope)] = TableId(endpoint, scope, rule)
        return tid

    def _record(self, endpoint: str, scope: str, client: Client, wait: float, shadow: bool) -> None:
        mode = "shadow" if shadow else "enforce"
        if self._metrics is not None:
            self._metrics.ratelimit_rejected(endpoint=endpoint, scope=scope, mode=mode)
        now = trio.current_time()
        if self._log_budget.wait("log", now) > 0:
            self._suppressed += 1
            return
        self._log_budget.commit("log", now)
        suppressed, self._suppressed = self._suppressed, 0
        activity.info(
            "rate limited (%s): client=%s endpoint=%s scope=%s retry_after=%.3fs suppressed=%d",
            mode, client, endpoint, scope, wait, suppressed,
        )  # fmt: skip


def _resolver(cfg: RateLimitConfig, trusted_proxies: Sequence[str]) -> ClientResolver:
    return ClientResolver(
        trusted_proxies=trusted_proxies,
        header=cfg.client_header,
        ipv6_prefix=cfg.ipv6_prefix,
    )


def _open_store(cfg: RateLimitConfig, redis_prefix: str) -> Store:
    if cfg.backend == "redis":
        return RedisStore(cfg.redis_url, timeout=float(cfg.redis_timeout), prefix=redis_prefix)
    if cfg.backend == "memory":
        return MemoryStore()
    raise ConfigError(f"unknown backend {cfg.backend!r}", key="ratelimit.backend")


def _publish(metrics: Metrics, stats: LimiterStatistics) -> None:
    metrics.publish_ratelimit(
        stats.tracked_keys, backend=stats.backend, up=stats.backend_up, fail_open=stats.fail_open
    )


async def _run_sweeper(limiter: Limiter) -> None:
    while True:
        await trio.sleep(limiter.policy.sweep_interval)
        limiter.sweep()


@asynccontextmanager
async def open_limiter(
    cfg: RateLimitConfig,
    *,
    trusted_proxies: Sequence[str] = (),
    metrics: Metrics | None = None,
    redis_prefix: str = "switchgeard:ratelimit",
    store_factory: Callable[[RateLimitConfig], Store] | None = None,
) -> AsyncIterator[Limiter]:
    """Open the limiter and its sweeper task; closes the Redis client on exit.

    Raises ConfigError (naming the ``ratelimit.*`` or ``lnurl.trusted_proxies`` key) for
    invalid settings. With ``metrics``, table sizes and fail-open counts are published.
    """
    store = store_factory(cfg) if store_factory else _open_store(cfg, redis_prefix)
    try:
        limiter = Limiter(cfg, trusted_proxies=trusted_proxies, store=store, metrics=metrics)
        if metrics is not None:
            metrics.add_source(lambda: _publish(metrics, limiter.statistics()))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_run_sweeper, limiter)
            yield limiter
            nursery.cancel_scope.cancel()
    finally:
        if isinstance(store, RedisStore):
            store.close()
