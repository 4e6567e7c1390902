"""Everything the public service says on the wire, rendered in one place.

Errors become the LUD error object ``{"status": "ERROR", "reason": ...}`` with an HTTP
status; unexpected exceptions are logged with their traceback and answered with a generic
500, never with details. Every response carries CORS and cache headers (spec §1.8).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from quart import Response

from switchgeard.errors import (
    BackendError,
    BackendRejected,
    NoHealthyBackend,
    NotFound,
    RequestError,
    StoreError,
)

log = logging.getLogger("switchgeard.lnurl")

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "*",
    "Access-Control-Max-Age": "86400",
}
NO_CACHE_HEADERS = {
    "Cache-Control": "no-store, no-cache, must-revalidate",
    "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
    "Pragma": "no-cache",
}
UNAVAILABLE_REASON = "no Lightning node can create an invoice right now, try again later"
REJECTED_REASON = "the Lightning node refused to create this invoice"
INTERNAL_REASON = "internal server error"


def cache_headers(expires: datetime | None, now: datetime) -> dict[str, str]:
    """Cacheable until the offer expires, else the no-cache triple."""
    if expires is None:
        return dict(NO_CACHE_HEADERS)
    max_age = max(0, int((expires - now).total_seconds()))
    stamp = expires.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    return {"Cache-Control": f"public, max-age={max_age}", "Expires": stamp}


def json_response(
    body: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Compact UTF-8 JSON (non-ASCII unescaped) with CORS and, unless given, no-cache headers."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return Response(
        text, status=status, content_type="application/json", headers=_with_cors(headers)
    )


def _with_cors(headers: dict[str, str] | None) -> dict[str, str]:
    """CORS headers, then ``headers`` (the no-cache triple when none are given)."""
    return {**CORS_HEADERS, **(headers or NO_CACHE_HEADERS)}


class Wire(NamedTuple):
    """A response as the ASGI server sends it: status, encoded header pairs, body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def _encoded(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Header pairs as Quart encodes a Response's headers (lower-case names, UTF-8)."""
    return [(name.lower().encode(), value.encode()) for name, value in headers]


_DEFAULT_WIRE_HEADERS = _encoded(_with_cors(None).items())
_JSON = (b"content-type", b"application/json")


def json_wire(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Wire:
    """What ``json_response`` sends, built without a Response object: the fast path
    answers the busiest routes with it (``tests/lnurl`` proves the bytes identical)."""
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    head = _encoded(_with_cors(headers).items()) if headers else _DEFAULT_WIRE_HEADERS
    return Wire(status, [*head, _JSON, (b"content-length", str(len(data)).encode())], data)


async def wire_of(response: Response) -> Wire:
    """Any Response as it would be sent (for the fast path's rarer answers)."""
    body = await response.get_data(as_text=False)
    return Wire(response.status_code, _encoded(response.headers.items()), body)


def lud_error(status: int, reason: str) -> Response:
    """The LUD error object; 5xx reasons never carry internal details."""
    return json_response({"status": "ERROR", "reason": reason}, status=status)


def render_error(exc: Exception) -> Response:
    """Map any exception raised while handling a request to its LUD error response."""
    match exc:
        case RequestError():
            return lud_error(exc.status, exc.reason)
        case NotFound():
            return lud_error(404, "not found")
        case BackendRejected():
            log.warning("invoice refused by backend: %s", exc)
            return lud_error(400, REJECTED_REASON)
        case NoHealthyBackend() | BackendError():
            log.warning("no invoice: %s", exc)
            return lud_error(503, UNAVAILABLE_REASON)
        case StoreError():
            log.error("store failed while serving a request: %s", exc)
            return lud_error(503, "temporarily unavailable, try again later")
    log.error("unexpected error while serving a request", exc_info=exc)
    return lud_error(500, INTERNAL_REASON)
