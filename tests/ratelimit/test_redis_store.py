"""The Redis store: two limiters share one per-client limit; without Redis they fail open.

Needs the Redis server named by SWITCHGEARD_TEST_REDIS (``.ci/run`` sets it); the fail-open
test needs no server at all.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
import redis
import trio
from prometheus_client import CollectorRegistry
from ratelimit_helpers import Recorder, call, config, rule

from switchgeard.config.model import RateLimitClassConfig, RateLimitConfig
from switchgeard.errors import ConfigError
from switchgeard.ratelimit import RateLimitMiddleware, open_limiter
from switchgeard.ratelimit.stores import RedisStore
from switchgeard.telemetry.metrics import Metrics, build_provider, prometheus_reader

REDIS_URL = os.environ.get("SWITCHGEARD_TEST_REDIS", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="SWITCHGEARD_TEST_REDIS is not set")


def _redis_config(url: str, **changes: object) -> RateLimitConfig:
    limits = RateLimitClassConfig(per_client=rule("1/m", 3), total=rule("1000/s", 1000))
    return config(backend="redis", redis_url=url, invoice=limits, **changes)


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    name = f"switchgeard-test:{uuid.uuid4().hex}"
    yield name
    if REDIS_URL:
        client = redis.Redis.from_url(REDIS_URL)
        try:
            keys = await trio.to_thread.run_sync(lambda: list(client.scan_iter(f"{name}:*")))
            if keys:
                await trio.to_thread.run_sync(client.delete, *keys)
        finally:
            client.close()


@needs_redis
async def test_two_instances_share_one_per_client_limit(prefix: str) -> None:
    cfg = _redis_config(REDIS_URL)
    async with (
        open_limiter(cfg, redis_prefix=prefix) as first,
        open_limiter(cfg, redis_prefix=prefix) as second,
    ):
        apps = [RateLimitMiddleware(Recorder(), first), RateLimitMiddleware(Recorder(), second)]
        statuses = [(await call(apps[n % 2], ip="203.0.113.5"))[0] for n in range(8)]
        status, headers, _ = await call(apps[1], ip="203.0.113.5")
        other = (await call(apps[0], ip="203.0.113.6"))[0]
        assert first.statistics().backend == "redis"
        assert first.statistics().backend_up and first.statistics().fail_open == 0
    assert statuses == [200, 200, 200] + [429] * 5
    assert status == 429
    assert 1 <= int(headers["retry-after"]) <= 60
    assert other == 200


@needs_redis
async def test_redis_keys_expire_by_themselves(prefix: str) -> None:
    async with open_limiter(_redis_config(REDIS_URL), redis_prefix=prefix) as limiter:
        await call(RateLimitMiddleware(Recorder(), limiter), ip="203.0.113.5")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        pattern = f"{prefix}:invoice:per_client:*:203.0.113.5"
        keys = await trio.to_thread.run_sync(lambda: list(client.scan_iter(pattern)))
        ttl = await trio.to_thread.run_sync(client.pttl, keys[0])
    finally:
        client.close()
    assert len(keys) == 1
    assert 50_000 < ttl <= 60_001  # one interval of 1/m, then the key is gone


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_redis_fails_open_and_says_so(
    prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    registry = CollectorRegistry()
    metrics = Metrics(build_provider([prometheus_reader(registry)]), registry)
    cfg = _redis_config(f"redis://127.0.0.1:{_closed_port()}/0")
    caplog.set_level(logging.WARNING, "switchgeard.ratelimit")
    async with (
        open_limiter(cfg, redis_prefix=prefix, metrics=metrics) as first,
        open_limiter(cfg, redis_prefix=prefix) as second,
    ):
        apps = [RateLimitMiddleware(Recorder(), first), RateLimitMiddleware(Recorder(), second)]
        statuses = [(await call(apps[n % 2], ip="203.0.113.5"))[0] for n in range(10)]
        stats = first.statistics()
        metrics.refresh()
    assert statuses == [200] * 10
    assert not stats.backend_up
    assert stats.fail_open == 5
    warnings = [r for r in caplog.records if "failing open" in r.getMessage()]
    assert len(warnings) == 2  # once per instance and outage, not per request
    labels = {"switchgear_ratelimit_backend": "redis"}
    assert registry.get_sample_value("switchgear_ratelimit_fail_open_total", labels) == 5
    assert registry.get_sample_value("switchgear_ratelimit_backend_up", labels) == 0


def test_redis_url_is_checked() -> None:
    with pytest.raises(ConfigError) as info:
        RedisStore("", timeout=0.1)
    assert info.value.key == "ratelimit.redis_url"
    with pytest.raises(ConfigError) as info:
        RedisStore("http://localhost", timeout=0.1)
    assert info.value.key == "ratelimit.redis_url"
