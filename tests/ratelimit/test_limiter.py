"""The limiter through its ASGI middleware: flood, totals, Retry-After, shadow, exemptions,
overrides, reload and bounded memory. Time runs on trio's autojump clock."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
import trio
import trio.testing
from prometheus_client import CollectorRegistry
from ratelimit_helpers import INVOICE, Recorder, call, config, http_scope, rule

from switchgeard.config.model import (
    RateLimitClassConfig,
    RateLimitConfig,
    RateLimitOverrideConfig,
)
from switchgeard.ratelimit import RateLimitMiddleware, open_limiter
from switchgeard.ratelimit.asgi import classify_lnurl
from switchgeard.ratelimit.limiter import Limiter
from switchgeard.telemetry.metrics import Metrics, build_provider, prometheus_reader


async def _client_loop(app: Any, ip: str, interval: float, until: float, out: Counter[str]) -> None:
    while trio.current_time() < until:
        status, headers, _ = await call(app, ip=ip)
        out[f"{ip} {status}"] += 1
        out[f"{ip} sent"] += 1
        if status == 429:
            out[f"{ip} retry-after {headers['retry-after']}"] += 1
        await trio.sleep(interval)


async def test_flood_does_not_hurt_well_behaved_clients(autojump_clock: trio.abc.Clock) -> None:
    cfg = config(invoice=RateLimitClassConfig(per_client=rule("5/s", 5), total=rule("1000/s", 100)))
    outcome: Counter[str] = Counter()
    async with open_limiter(cfg) as limiter:
        app = RateLimitMiddleware(Recorder(), limiter)
        until = trio.current_time() + 10.0
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_client_loop, app, "198.51.100.66", 1 / 100, until, outcome)
            for n in range(5):
                nursery.start_soon(_client_loop, app, f"203.0.113.{n}", 1 / 4, until, outcome)
    for n in range(5):
        assert outcome[f"203.0.113.{n} sent"] >= 40
        assert outcome[f"203.0.113.{n} 200"] == outcome[f"203.0.113.{n} sent"]
    accepted = outcome["198.51.100.66 200"]
    assert 5 + 50 - 1 <= accepted <= 5 + 50 + 1  # burst, then 5/s for 10 s
    assert outcome["198.51.100.66 sent"] >= 1000
    assert outcome["198.51.100.66 429"] == outcome["198.51.100.66 sent"] - accepted
    assert outcome["198.51.100.66 retry-after 1"] == outcome["198.51.100.66 429"]


async def test_total_caps_the_sum(autojump_clock: trio.abc.Clock) -> None:
    cfg = config(invoice=RateLimitClassConfig(per_client=rule("100/s", 10), total=rule("10/s", 10)))
    outcome: Counter[str] = Counter()
    async with open_limiter(cfg) as limiter:
        app = RateLimitMiddleware(Recorder(), limiter)
        until = trio.current_time() + 10.0
        async with trio.open_nursery() as nursery:
            for n in range(6):
                nursery.start_soon(_client_loop, app, f"203.0.113.{n}", 1 / 5, until, outcome)
    accepted = sum(outcome[f"203.0.113.{n} 200"] for n in range(6))
    assert 10 + 100 - 1 <= accepted <= 10 + 100 + 1
    sent = sum(outcome[f"203.0.113.{n} sent"] for n in range(6))
    assert sent >= 300
    assert sum(outcome[f"203.0.113.{n} 429"] for n in range(6)) == sent - accepted


async def test_rejected_request_is_not_charged_to_the_other_limit(
    autojump_clock: trio.abc.Clock,
) -> None:
    cfg = config(invoice=RateLimitClassConfig(per_client=rule("1/s", 2), total=rule("1/m", 1)))
    async with open_limiter(cfg) as limiter:
        app = RateLimitMiddleware(Recorder(), limiter)
        assert (await call(app, ip="203.0.113.1"))[0] == 200
        for _ in range(5):  # refused by the total: must not use up 203.0.113.2's burst
            assert (await call(app, ip="203.0.113.2"))[0] == 429
        await trio.sleep(60)
        assert (await call(app, ip="203.0.113.2"))[0] == 200
        assert (await call(app, ip="203.0.113.2"))[0] == 429  # total again
        await trio.sleep(60)
        assert (await call(app, ip="203.0.113.2"))[0] == 200  # per-client burst still had room


async def test_rejection_shape(autojump_clock: trio.abc.Clock) -> None:
    cfg = config(invoice=RateLimitClassConfig(per_client=rule("1/m", 1)))
    async with open_limiter(cfg) as limiter:
        app = RateLimitMiddleware(Recorder(), limiter)
        assert (await call(app))[0] == 200
        await trio.sleep(10.5)
        status, headers, body = await call(app)
    assert status == 429
    assert headers["retry-after"] == "50"  # 49.5 s rounded up
    assert headers["content-type"] == "application/json"
    assert headers["access-control-allow-origin"] == "*"
    assert headers["cache-control"] == "no-store"
    assert json.loads(body) == {"status": "ERROR", "reason": "Too many requests, retry in 50 s"}


async def test_retry_after_is_at_least_one_second(autojump_clock: trio.abc.Clock) -> None:
    cfg = config(invoice=RateLimitClassConfig(per_client=rule("100/s", 1)))
    async with open_limiter(cfg) as limiter:
        app = RateLimitMiddleware(Recorder(), limiter)
        await call(app)
        status, headers, _ = await call(app)
    assert (status, headers["retry-after"]) == (429, "1")


async def test_health_and_preflight_are_never_limited(autojump_clock: trio.abc.Clock) -> None:
    limits = RateLimitClassConfig(per_client=rule("1/h", 1), total=rule("1/h", 1))
    async with open_limiter(config(default=limits, invoice=limits)) as limiter:
        app = RateLimitMiddleware(Recorder(), limiter)
        for path in ("/health", "/health/full") * 10:
            assert (await call(app, path))[0] == 200
        for _ in range(5):
            assert (await call(app, INVOICE, method="OPTIONS"))[0] == 200
        assert (await call(app, "/healthz"))[0] == 200  # default class, first request
        assert (await call(app, "/healthz"))[0] == 429


async def test_shadow_mode_counts_and_logs_but_serves(
    autojump_clock: trio.abc.Clock, caplog: pytest.LogCaptureFixture
) -> None:
    registry = CollectorRegistry()
    metrics = Metrics(build_provider([prometheus_reader(registry)]), registry)
    cfg = config(mode="shadow", invoice=RateLimitClassConfig(per_client=rule("1/m", 2)))
    caplog.set_level(logging.INFO, "switchgeard.lnurl.ratelimit")
    async with open_limiter(cfg, metrics=metrics) as limiter:
        app = RateLimitMiddleware(Recorder(), limiter)
        statuses = [(await call(app))[0] for _ in range(5)]
    assert statuses == [200] * 5
    labels = {"switchgear_endpoint": "invoice", "switchgear_ratelimit_scope": "per_client",
              "switchgear_ratelimit_mode": "shadow"}  # fmt: skip
    assert registry.get_sample_value("switchgear_ratelimit_rejections_total", labels) == 3
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["rate limited (shadow)"] * 3


async def test_exempt_and_override_networks(autojump_clock: trio.abc.Clock) -> None:
    wallet = RateLimitOverrideConfig(cidrs=("198.51.100.0/24",), per_client=rule("1/m", 10))
    unlimited = RateLimitOverrideConfig(cidrs=("192.0.2.0/24",))
    cfg = config(
        invoice=RateLimitClassConfig(per_client=rule("1/m", 1)),
        exempt=("127.0.0.0/8",),
        overrides=(wallet, unlimited),
    )
    async with open_limiter(cfg) as limiter:
        app = RateLimitMiddleware(Recorder(), limiter)

        async def count_ok(ip: str) -> int:
            return sum([(await call(app, ip=ip))[0] == 200 for _ in range(20)])

        assert await count_ok("127.0.0.1") == 20
        assert await count_ok("198.51.100.7") == 10
        assert await count_ok("198.51.100.8") == 10  # each client of the range has its own
        assert await count_ok("192.0.2.1") == 20
        assert await count_ok("203.0.113.1") == 1


async def test_reload_keeps_state_of_unchanged_classes(autojump_clock: trio.abc.Clock) -> None:
    cfg = config(
        invoice=RateLimitClassConfig(per_client=rule("1/m", 1)),
        offer=RateLimitClassConfig(per_client=rule("1/m", 1)),
    )
    async with open_limiter(cfg) as limiter:
        app = RateLimitMiddleware(Recorder(), limiter)
        await call(app, INVOICE)
        await call(app, "/offers/default/1")
        changed = replace(cfg, offer=RateLimitClassConfig(per_client=rule("2/m", 1)))
        limiter.reconfigure(changed, trusted_proxies=())
        assert (await call(app, INVOICE))[0] == 429  # unchanged: still spent
        assert (await call(app, "/offers/default/1"))[0] == 200  # changed: fresh table


async def test_bad_reload_keeps_the_old_limits(autojump_clock: trio.abc.Clock) -> None:
    from switchgeard.errors import ConfigError

    cfg = config(invoice=RateLimitClassConfig(per_client=rule("1/m", 1)))
    async with open_limiter(cfg) as limiter:
        app = RateLimitMiddleware(Recorder(), limiter)
        await call(app)
        broken = config(invoice=RateLimitClassConfig(per_client=rule("fast", 1)))
        with pytest.raises(ConfigError, match=r"ratelimit\.invoice\.per_client\.rate"):
            limiter.reconfigure(broken, trusted_proxies=())
        assert (await call(app))[0] == 429


async def test_identity_is_shared_with_the_app(autojump_clock: trio.abc.Clock) -> None:
    recorder = Recorder()
    async with open_limiter(config(), trusted_proxies=["10.0.0.0/8"]) as limiter:
        app = RateLimitMiddleware(recorder, limiter)
        await call(app, ip="10.0.0.1", headers=[(b"x-forwarded-for", b"203.0.113.9")])
    assert str(recorder.clients[0]) == "203.0.113.9"


async def _fill(limiter: Limiter, count: int) -> None:
    resolver_scope: dict[str, Any] = http_scope()
    for index in range(count):
        if index % 2:
            resolver_scope["client"] = (f"2001:db8:{index >> 16:x}:{index & 0xFFFF:x}::1", 1)
        else:
            resolver_scope["client"] = (f"10.{index >> 16}.{(index >> 8) & 255}.{index & 255}", 1)
        await limiter.check("invoice", limiter.identify(resolver_scope))
        if index % 4 == 0:
            await limiter.check("offer", limiter.identify(resolver_scope))


@pytest.mark.deadline(60)
async def test_memory_stays_at_the_cap(autojump_clock: trio.abc.Clock) -> None:
    limits = RateLimitClassConfig(per_client=rule("1/m", 5), total=rule("1000000/s", 1000000))
    cfg = config(invoice=limits, offer=limits, max_tracked_clients=5000)
    async with open_limiter(cfg) as limiter:
        await _fill(limiter, 200_000)
        tracked = limiter.statistics().tracked_keys
        assert tracked["invoice"] == 5000 + 1  # the cap, plus the one "total" key
        assert tracked["offer"] == 5000 + 1
        limiter.reconfigure(replace(cfg, max_tracked_clients=100), trusted_proxies=())
        assert limiter.statistics().tracked_keys["invoice"] == 100 + 1


async def test_sweeper_drops_expired_keys(autojump_clock: trio.abc.Clock) -> None:
    cfg = config(invoice=RateLimitClassConfig(per_client=rule("1/s", 1)), sweep_interval=5.0)
    async with open_limiter(cfg) as limiter:
        await _fill(limiter, 100)
        assert limiter.statistics().tracked_keys["invoice"] == 100
        await trio.sleep(6)
        assert limiter.statistics().tracked_keys["invoice"] == 0


def test_classify_lnurl_routes() -> None:
    assert classify_lnurl("/health").endpoint is None
    assert classify_lnurl("/health/full").endpoint is None
    assert classify_lnurl("/offers/p/i").endpoint == "offer"
    assert classify_lnurl("/offers/p/i/links").endpoint == "offer"
    assert classify_lnurl("/offers/p/i/invoice").template == "/offers/{partition}/{id}/invoice"
    assert classify_lnurl("/offers/p/i/bech32/qr").endpoint == "bech32"
    assert classify_lnurl("/verify/ab").endpoint == "verify"
    assert classify_lnurl("/.well-known/lnurlp/alice").endpoint == "lnurlp"
    assert classify_lnurl("/wp-admin.php") == classify_lnurl("/healthz")
    assert classify_lnurl("/wp-admin.php").template == "other"


def test_disabled_limiter_config_is_valid() -> None:
    assert not replace(RateLimitConfig(), enabled=False).enabled
