"""Per-request observation for the HTTP listeners: the Common Log Format access line and
``http.server.request.duration`` with ``http.route``.

The client in the access line is the identity the rate limiter resolved (the scope key
``"switchgeard.client"``, an object with an ``address``), else the TCP peer, written as
``[logging] client_ip`` says: in full, truncated to /24 (IPv4) or /48 (IPv6), or as a keyed
hash that is stable for the life of the process (the key is random per process).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any

from switchgeard.telemetry.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CLIENT_SCOPE_KEY = "switchgeard.client"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ClientIpFormat:
    """Writes client addresses for logs: ``full``, ``truncate`` or ``hash``."""

    def __init__(self, mode: str = "full", *, key: bytes | None = None) -> None:
        if mode not in ("full", "truncate", "hash"):
            raise ValueError(f"unknown client_ip mode {mode!r}")
        self.mode = mode
        self._key = key or secrets.token_bytes(32)

    def format(self, address: IPv4Address | IPv6Address | None, fallback: str = "-") -> str:
        if address is None:
            return fallback
        if self.mode == "truncate":
            prefix = 24 if address.version == 4 else 48
            return str(ip_network((address, prefix), strict=False).network_address)
        if self.mode == "hash":
            return hmac.new(self._key, address.packed, hashlib.sha256).hexdigest()[:16]
        return str(address)


_clf_second: list[tuple[int, str]] = [(-1, "")]


def clf_time() -> str:
    """The local time in Common Log Format (``25/Nov/2026:12:00:00 +0100``), formatted
    once per second: every request's access line needs it."""
    second = int(time.time())
    cached, text = _clf_second[0]
    if second != cached:
        text = datetime.fromtimestamp(second).astimezone().strftime("%d/%b/%Y:%H:%M:%S %z")
        _clf_second[0] = (second, text)
    return text


def _client_text(scope: Scope, fmt: ClientIpFormat) -> str:
    client = scope.get(CLIENT_SCOPE_KEY)
    if client is not None:
        return fmt.format(getattr(client, "address", None), fallback=str(client))
    peer = scope.get("client")
    if not peer:
        return "unix"
    try:
        return fmt.format(ip_address(str(peer[0])))
    except ValueError:
        return "-"


def _request_line(scope: Scope) -> str:
    target = scope.get("raw_path") or scope["path"].encode()
    if scope.get("query_string"):
        target += b"?" + scope["query_string"]
    text = target.decode("ascii", "backslashreplace").replace('"', "%22")
    return f"{scope['method']} {text} HTTP/{scope.get('http_version', '1.1')}"


class HttpObserver:
    """ASGI middleware: one CLF line per request to ``access_log`` and the duration metric.

    ``route_of(path)`` returns the route template (``http.route``); unknown paths should
    map to one fixed value so scanners cannot create series.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        route_of: Callable[[str], str],
        metrics: Metrics | None = None,
        access_log: logging.Logger | None = None,
        client_ip: ClientIpFormat | None = None,
    ) -> None:
        self.app = app
        self.route_of = route_of
        self.metrics = metrics
        self.access_log = access_log
        self.client_ip = client_ip or ClientIpFormat()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        sent = {"status": 500, "bytes": 0}

        async def observe(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            elif message["type"] == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            self._finish(scope, sent["status"], sent["bytes"], time.perf_counter() - started)

    def _finish(self, scope: Scope, status: int, size: int, seconds: float) -> None:
        if self.metrics is not None:
            method = scope["method"] if scope["method"] in _METHODS else "_OTHER"
            attributes: dict[str, str | int] = {
                "http.request.method": method,
                "http.route": self.route_of(scope["path"]),
                "http.response.status_code": status,
                "url.scheme": scope.get("scheme", "http"),
                "network.protocol.version": scope.get("http_version", "1.1"),
            }
            if status >= 500:
                attributes["error.type"] = str(status)
            self.metrics.http_request(attributes, seconds)
        if self.access_log is not None and self.access_log.isEnabledFor(logging.INFO):
            stamp = clf_time()
            line = f'{_client_text(scope, self.client_ip)} - - [{stamp}] "{_request_line(scope)}"'
            self.access_log.info("%s %d %s", line, status, size or "-")
