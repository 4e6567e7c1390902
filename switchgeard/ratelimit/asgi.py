"""The ASGI middleware that puts the limiter in front of the LNURL app.

Usage in the app factory (``classify`` maps a path to its route and endpoint class)::

    app.asgi_app = wrap_public_app(app.asgi_app, limiter=limiter, metrics=metrics)

which adds the access log and ``http.server.request.duration`` around the limiter.

The resolved :class:`Client` is stored in the scope under ``"switchgeard.client"`` so the
access log and the app see the same identity. ``/health*`` is never limited.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from switchgeard.ratelimit.limiter import Decision, Limiter
from switchgeard.telemetry.access import ClientIpFormat, HttpObserver
from switchgeard.telemetry.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CLIENT_SCOPE_KEY = "switchgeard.client"
DEFAULT_CORS: tuple[tuple[bytes, bytes], ...] = ((b"access-control-allow-origin", b"*"),)


@dataclass(frozen=True, slots=True)
class Route:
    """A request path's route template (for ``http.route``) and endpoint class (None: never
    limited)."""

    template: str
    endpoint: str | None


_SEG = r"[^/]+"
_ROUTES: tuple[tuple[re.Pattern[str], Route], ...] = tuple(
    (re.compile(pattern), route)
    for pattern, route in (
        (r"/health(/full)?", Route("/health", None)),
        (rf"/offers/{_SEG}/{_SEG}", Route("/offers/{partition}/{id}", "offer")),
        (rf"/offers/{_SEG}/{_SEG}/invoice", Route("/offers/{partition}/{id}/invoice", "invoice")),
        (rf"/offers/{_SEG}/{_SEG}/bech32", Route("/offers/{partition}/{id}/bech32", "bech32")),
        (
            rf"/offers/{_SEG}/{_SEG}/bech32/qr",
            Route("/offers/{partition}/{id}/bech32/qr", "bech32"),
        ),
        (rf"/offers/{_SEG}/{_SEG}/links", Route("/offers/{partition}/{id}/links", "offer")),
        (rf"/\.well-known/lnurlp/{_SEG}", Route("/.well-known/lnurlp/{username}", "lnurlp")),
        (rf"/.*/verify/{_SEG}", Route("/verify/{payment_hash}", "verify")),
        (rf"/verify/{_SEG}", Route("/verify/{payment_hash}", "verify")),
        (r"/.*/(invoice|callback)", Route("/callback", "invoice")),
    )
)
_OTHER = Route("other", "default")


def classify_lnurl(path: str) -> Route:
    """The route of a public LNURL path; unknown paths are ``other``/``default``."""
    if path.startswith("/health"):
        return _ROUTES[0][1] if _ROUTES[0][0].fullmatch(path) else _OTHER
    for pattern, route in _ROUTES:
        if pattern.fullmatch(path):
            return route
    return _OTHER


def rejection_body(decision: Decision) -> bytes:
    """The LUD-06 error body of a 429."""
    reason = f"Too many requests, retry in {decision.retry_after_header} s"
    return json.dumps({"status": "ERROR", "reason": reason}).encode()


class RateLimitMiddleware:
    """Answers 429 (LUD-06 JSON, ``Retry-After``, CORS) when the limiter refuses a request."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: Limiter,
        *,
        classify: Callable[[str], Route] = classify_lnurl,
        cors_headers: Sequence[tuple[bytes, bytes]] = DEFAULT_CORS,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.classify = classify
        self.cors_headers = tuple(cors_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope[CLIENT_SCOPE_KEY] = self.limiter.identify(scope)
        endpoint = self.classify(scope["path"]).endpoint
        if endpoint is not None and scope["method"] != "OPTIONS":
            decision = await self.limiter.check(endpoint, client)
            if not decision.allowed:
                await self._reject(send, decision)
                return
        await self.app(scope, receive, send)

    async def _reject(self, send: Send, decision: Decision) -> None:
        body = rejection_body(decision)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", decision.retry_after_header.encode()),
            (b"cache-control", b"no-store"),
            *self.cors_headers,
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})


ACCESS_LOG = logging.getLogger("switchgeard.lnurl.access")


def wrap_public_app(
    app: Callable[..., Awaitable[None]],
    *,
    limiter: Limiter | None = None,
    metrics: Metrics | None = None,
    client_ip: ClientIpFormat | None = None,
    classify: Callable[[str], Route] = classify_lnurl,
) -> Callable[..., Any]:
    """The public listener's middleware stack: access line and request duration outside,
    the rate limiter (when given) inside, so rejected requests are logged and measured too."""
    classify = _remember_last(classify)  # both layers classify the same path
    inner: ASGIApp = (
        app if limiter is None else RateLimitMiddleware(app, limiter, classify=classify)
    )
    return HttpObserver(
        inner,
        route_of=lambda path: classify(path).template,
        metrics=metrics,
        access_log=ACCESS_LOG,
        client_ip=client_ip,
    )


def _remember_last(classify: Callable[[str], Route]) -> Callable[[str], Route]:
    """``classify`` with a one-entry memory: the second call for a request costs nothing."""
    last: list[tuple[str, Route]] = [("", classify(""))]

    def remembered(path: str) -> Route:
        seen, route = last[0]
        if path != seen:
            route = classify(path)
            last[0] = (path, route)
        return route

    return remembered
