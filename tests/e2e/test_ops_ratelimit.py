"""Rate limiting end to end, through the running daemon behind a trusted proxy (the test
client, which names each wallet in X-Forwarded-For): a flooder is answered 429 with
Retry-After, the LUD error JSON and CORS, wallets within their rate all succeed, the
flooder cannot escape by writing its own X-Forwarded-For, and /health is never limited."""

from __future__ import annotations

import math
from pathlib import Path

import httpx
import pytest
import trio
from e2e_world import OFFER_PATH, World, open_world

pytestmark = [pytest.mark.deadline(40)]

FLOODER = "203.0.113.66"
WALLETS = [f"198.51.100.{n}" for n in range(1, 6)]
LIMITS = {"invoice": {"per_client": {"rate": "2/s", "burst": 4}}}


async def _callback(world: World, client: str, **headers: str) -> httpx.Response:
    return await world.http.get(
        OFFER_PATH + "/invoice",
        params={"amount": "21000"},
        headers={"x-forwarded-for": client, **headers},
    )


async def test_flooder_gets_429_while_wallets_within_their_rate_succeed(tmp_path: Path) -> None:
    proxied = {"trusted_proxies": ["127.0.0.1"]}
    async with open_world(tmp_path, lnurl=proxied, sections={"ratelimit": LIMITS}) as world:
        started = trio.current_time()
        flood = [await _callback(world, FLOODER) for _ in range(40)]  # 20x its rate
        elapsed = trio.current_time() - started
        wallets = [await _callback(world, wallet) for wallet in WALLETS for _ in range(3)]
        spoofed = await _callback(world, f"10.9.9.9, {FLOODER}")
        health = [(await world.http.get(path, headers={"x-forwarded-for": FLOODER})).status_code
                  for path in ("/health", "/health/full") for _ in range(50)]  # fmt: skip
        with trio.fail_after(5):
            retry = flood[-1].headers["retry-after"]
            await trio.sleep(int(retry))
            again = await _callback(world, FLOODER)
    assert [r.status_code for r in wallets] == [200] * len(wallets)
    accepted = [r for r in flood if r.status_code == 200]
    rejected = [r for r in flood if r.status_code == 429]
    assert 4 <= len(accepted) <= 4 + math.ceil(elapsed * 2), elapsed  # burst, then the rate
    assert len(accepted) + len(rejected) == len(flood)
    for response in rejected:
        assert response.headers["content-type"] == "application/json"
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["cache-control"] == "no-store"
        seconds = int(response.headers["retry-after"])
        assert 1 <= seconds <= math.ceil(40 / 2)
        body = response.json()
        assert body["status"] == "ERROR" and "Too many requests" in body["reason"]
    assert spoofed.status_code == 429  # a hop written by the client is not its identity
    assert health == [200] * 100
    assert again.status_code == 200
