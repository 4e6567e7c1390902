"""Rate-limiter overhead benchmark (not a test): in-process, no sockets.

Drives the real public app (``create_lnurl_app``) with first calls (``GET /offers/p/id``,
the payRequest) straight through ASGI, once without a limiter and once with the default
``[ratelimit]`` limits raised so nothing is refused, every request from a new client
address (the worst case: each one inserts a key). Rounds alternate to share noise; the
median round is reported. Without sockets the app's own cost is smallest, so this is the
strictest view of the limiter's share.

Run: ``.venv/bin/python bench/ratelimit.py [--requests N] [--rounds R]``. Prints a Markdown
block for ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import trio

from switchgeard.config.model import LnurlConfig, RateLimitConfig, RateLimitRuleConfig
from switchgeard.errors import NotFound
from switchgeard.lnurl.app import LnurlDeps, create_lnurl_app
from switchgeard.ratelimit import Limiter, open_limiter
from switchgeard.store.records import Metadata, Offer
from switchgeard.units import Msat

OFFER_ID = uuid.uuid4()
META = Metadata(partition="default", id=uuid.uuid4(), text="coffee")
OFFER = Offer(partition="default", id=OFFER_ID, min_sendable=Msat(1000),
              max_sendable=Msat(1_000_000), metadata_id=META.id,
              timestamp=datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
PATH = f"/offers/default/{OFFER_ID}"


class Offers:
    async def get_offer_with_metadata(self, partition: str, id: uuid.UUID) -> Any:
        if id != OFFER_ID:
            raise NotFound("offer")
        return OFFER, META


class Unused:
    consistent_key = "comment"

    def selectable(self, partition: str) -> bool:
        return True


async def _one(app: Any, index: int) -> int:
    scope = {"type": "http", "method": "GET", "path": PATH, "raw_path": PATH.encode(),
             "scheme": "https", "http_version": "1.1", "query_string": b"",
             "headers": [(b"host", b"pay.example.com")], "root_path": "",
             "client": (f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}", 4000),
             "server": ("127.0.0.1", 443)}  # fmt: skip
    status = 0
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:
            await trio.sleep_forever()
        received = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _round(limiter: Limiter | None, requests: int, offset: int) -> float:
    deps = LnurlDeps(offers=Offers(), invoices=Unused(), verifier=Unused(), limiter=limiter)  # type: ignore[arg-type]
    app = create_lnurl_app(deps, LnurlConfig(allowed_hosts=("pay.example.com",)))
    started = time.perf_counter()
    for index in range(requests):
        assert await _one(app, offset + index) == 200
    return requests / (time.perf_counter() - started)


async def main(requests: int, rounds: int) -> None:
    generous = RateLimitRuleConfig(rate="1000000/s", burst=1_000_000)
    offer = replace(RateLimitConfig().offer, total=generous)
    cfg = replace(RateLimitConfig(), offer=offer)
    without, with_limiter = [], []
    async with open_limiter(cfg) as limiter:
        await _round(limiter, 200, 0)  # warm-up
        await _round(None, 200, 0)
        for n in range(rounds):
            without.append(await _round(None, requests, 0))
            with_limiter.append(await _round(limiter, requests, (n + 1) * requests))
        tracked = limiter.statistics().tracked_keys["offer"]
    base, limited = statistics.median(without), statistics.median(with_limiter)
    overhead = 100 * (base - limited) / base
    per_request_us = (1 / limited - 1 / base) * 1e6
    print(f"## ratelimit\n\n{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, Python "
          f"{platform.python_version()} (`.venv/bin/python bench/ratelimit.py --requests "
          f"{requests} --rounds {rounds}`; in-process ASGI first calls, a new client address "
          f"per request, {tracked} keys tracked at the end).\n")  # fmt: skip
    print("| app | first calls per second (median of rounds) |\n| --- | ---: |")
    print(f"| no limiter | {base:,.0f} |\n| default limits (none refused) | {limited:,.0f} |\n")
    print(f"Limiter overhead: {overhead:.1f} % of first-call throughput "
          f"({per_request_us:.1f} µs per request); target ≤ 5 %.")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    trio.run(main, args.requests, args.rounds)
