"""Shared builders for the rate-limit tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import trio

from switchgeard.config.model import RateLimitClassConfig, RateLimitConfig, RateLimitRuleConfig
from switchgeard.ratelimit.asgi import CLIENT_SCOPE_KEY

INVOICE = "/offers/default/00000000-0000-0000-0000-000000000001/invoice"

NO_LIMITS = RateLimitClassConfig()


def rule(rate: str, burst: int) -> RateLimitRuleConfig:
    return RateLimitRuleConfig(rate=rate, burst=burst)


def config(**changes: Any) -> RateLimitConfig:
    """A config with no limits on any class except those given."""
    base = RateLimitConfig(
        offer=NO_LIMITS, invoice=NO_LIMITS, bech32=NO_LIMITS, verify=NO_LIMITS,
        lnurlp=NO_LIMITS, default=NO_LIMITS,
    )  # fmt: skip
    return replace(base, **changes)


def http_scope(
    path: str = "/offers/default/1/invoice",
    *,
    client: tuple[str, int] | None = ("203.0.113.7", 50000),
    headers: list[tuple[bytes, bytes]] | None = None,
    method: str = "GET",
) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "scheme": "http",
        "http_version": "1.1",
        "query_string": b"",
        "headers": headers or [],
        "client": client,
        "server": ("127.0.0.1", 8080),
    }


class Recorder:
    """An ASGI app that answers 200 and remembers the client identity it was given."""

    def __init__(self) -> None:
        self.clients: list[Any] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.clients.append(scope.get(CLIENT_SCOPE_KEY))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def call(app: Any, path: str = INVOICE, ip: str = "203.0.113.1", **kw: Any) -> Any:
    """One request; returns (status, headers dict, body)."""
    messages: list[dict[str, Any]] = []

    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:  # the body was sent: the client stays until the response is done
            await trio.sleep_forever()
        received = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(http_scope(path, client=(ip, 5000), **kw), receive, send)
    start = messages[0]
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, b"".join(m.get("body", b"") for m in messages[1:])
