"""The limiter inside the real public app: 429s for flooded routes, /health untouched,
access lines and route-labelled durations for every request (rejected ones included)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
import trio
from prometheus_client import CollectorRegistry
from ratelimit_helpers import call, config, rule

from switchgeard.config.model import LnurlConfig, RateLimitClassConfig
from switchgeard.errors import NotFound
from switchgeard.lnurl.app import LnurlDeps, create_lnurl_app
from switchgeard.ratelimit import open_limiter
from switchgeard.telemetry.metrics import Metrics, build_provider, prometheus_reader

OFFER = f"/offers/default/{uuid.uuid4()}"


class NoOffers:
    async def get_offer_with_metadata(self, partition: str, id: uuid.UUID) -> Any:
        raise NotFound(f"offer {partition}/{id}")


class Unused:
    consistent_key = "comment"

    def selectable(self, partition: str) -> bool:
        return True

    async def issue_invoice(self, **kwargs: Any) -> Any:
        raise AssertionError("no invoice expected")

    async def verify_invoice(self, payment_hash: Any) -> Any:
        raise NotFound("no invoices")


async def test_public_app_is_limited_observed_and_logged(
    autojump_clock: trio.abc.Clock, caplog: pytest.LogCaptureFixture
) -> None:
    registry = CollectorRegistry()
    metrics = Metrics(build_provider([prometheus_reader(registry)]), registry)
    caplog.set_level(logging.INFO, "switchgeard.lnurl.access")
    cfg = config(offer=RateLimitClassConfig(per_client=rule("1/m", 2)))
    async with open_limiter(cfg, metrics=metrics) as limiter:
        deps = LnurlDeps(offers=NoOffers(), invoices=Unused(), verifier=Unused(),  # type: ignore[arg-type]
                         limiter=limiter, metrics=metrics)  # fmt: skip
        app = create_lnurl_app(deps, LnurlConfig(allowed_hosts=("pay.example.com",)))
        host = [(b"host", b"pay.example.com")]
        statuses = [(await call(app, OFFER, headers=host))[0] for _ in range(4)]
        health = [(await call(app, "/health", headers=host))[0] for _ in range(4)]
    assert statuses == [404, 404, 429, 429]
    assert health == [200] * 4
    access = [r.getMessage() for r in caplog.records if r.name == "switchgeard.lnurl.access"]
    assert len(access) == 8
    assert access[2].startswith("203.0.113.1 - - [") and f'"GET {OFFER} HTTP/1.1" 429' in access[2]
    route = {"http_route": "/offers/{partition}/{id}", "http_request_method": "GET",
             "url_scheme": "http", "network_protocol_version": "1.1"}  # fmt: skip
    count = "http_server_request_duration_seconds_count"
    assert registry.get_sample_value(count, {**route, "http_response_status_code": "429"}) == 2
    assert registry.get_sample_value(count, {**route, "http_response_status_code": "404"}) == 2
