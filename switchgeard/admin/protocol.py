"""The admin API's wire contract, shared by the server and ``switchgear-ctl``.

Standard library only: importing this must not load quart, hypercorn or trio.

Every error body is ``{"error": {"code": "not_found", "number": 201, "message": "...",
"field": "publicKey"}}``; ``field`` is present only when one input value is to blame.
``code`` strings and ``number`` values are stable. Numbers are grouped by range:

    1xx  configuration (reload)
    2xx  store (records)
    3xx  Lightning backends
    4xx  request and permission
    500  internal error (a bug; details are in the daemon's log, never in the answer)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

DEFAULT_SOCKET = "/run/switchgeard/admin.sock"
"""Where the packaged configuration puts the admin socket."""

SOCKET_ENV = "SWITCHGEAR_SOCKET"
"""Environment variable naming the socket for ``switchgear-ctl``."""

JSON_TYPE = "application/json"
MAX_BODY_BYTES = 2 * 1024 * 1024

DISCOVERY = "/discovery"
OFFERS = "/offers"
METADATA = "/metadata"
ADDRESSES = "/addresses"
STATUS = "/status"
RELOAD = "/reload"
HEALTH = "/health"
OPENAPI = "/openapi.json"


def backend_path(public_key: str) -> str:
    return f"{DISCOVERY}/{quote(public_key, safe='')}"


def offers_path(partition: str | None = None) -> str:
    return OFFERS if partition is None else f"{OFFERS}/{quote(partition, safe='')}"


def offer_path(partition: str, offer_id: str) -> str:
    return f"{offers_path(partition)}/{quote(offer_id, safe='')}"


def metadata_list_path(partition: str | None = None) -> str:
    return METADATA if partition is None else f"{METADATA}/{quote(partition, safe='')}"


def metadata_path(partition: str, metadata_id: str) -> str:
    return f"{metadata_list_path(partition)}/{quote(metadata_id, safe='')}"


def address_path(domain: str, username: str) -> str:
    """``/addresses/{domain}/{username}``: one Lightning Address (``username@domain``)."""
    return f"{ADDRESSES}/{quote(domain, safe='')}/{quote(username, safe='')}"


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """A stable error: its string ``code``, its ``number`` and the HTTP status it travels with."""

    code: str
    number: int
    status: int


CONFIG_INVALID = ErrorCode("config_invalid", 101, 422)
RELOAD_FAILED = ErrorCode("reload_failed", 102, 500)
RELOAD_UNAVAILABLE = ErrorCode("reload_unavailable", 103, 503)
NOT_FOUND = ErrorCode("not_found", 201, 404)
CONFLICT = ErrorCode("conflict", 202, 409)
INVALID_VALUE = ErrorCode("invalid_value", 203, 422)
STORE_UNAVAILABLE = ErrorCode("store_unavailable", 204, 503)
LDAP_MANAGED = ErrorCode("ldap_managed", 205, 409)
"""A write to a Lightning Address synced from LDAP (only ``enabled`` may be changed)."""
BACKEND_UNAVAILABLE = ErrorCode("backend_unavailable", 301, 502)
BACKEND_REJECTED = ErrorCode("backend_rejected", 302, 502)
NO_HEALTHY_BACKEND = ErrorCode("no_healthy_backend", 303, 503)
BAD_REQUEST = ErrorCode("bad_request", 400, 400)
INVALID_JSON = ErrorCode("invalid_json", 401, 400)
UNSUPPORTED_MEDIA_TYPE = ErrorCode("unsupported_media_type", 402, 415)
UNKNOWN_FIELD = ErrorCode("unknown_field", 403, 422)
INVALID_PARAMETER = ErrorCode("invalid_parameter", 404, 400)
ROUTE_NOT_FOUND = ErrorCode("route_not_found", 405, 404)
METHOD_NOT_ALLOWED = ErrorCode("method_not_allowed", 406, 405)
BODY_TOO_LARGE = ErrorCode("body_too_large", 407, 413)
ACCESS_DENIED = ErrorCode("access_denied", 408, 403)
INTERNAL = ErrorCode("internal", 500, 500)

ERROR_CODES: dict[str, ErrorCode] = {
    e.code: e
    for e in (
        CONFIG_INVALID,
        RELOAD_FAILED,
        RELOAD_UNAVAILABLE,
        NOT_FOUND,
        CONFLICT,
        INVALID_VALUE,
        STORE_UNAVAILABLE,
        LDAP_MANAGED,
        BACKEND_UNAVAILABLE,
        BACKEND_REJECTED,
        NO_HEALTHY_BACKEND,
        BAD_REQUEST,
        INVALID_JSON,
        UNSUPPORTED_MEDIA_TYPE,
        UNKNOWN_FIELD,
        INVALID_PARAMETER,
        ROUTE_NOT_FOUND,
        METHOD_NOT_ALLOWED,
        BODY_TOO_LARGE,
        ACCESS_DENIED,
        INTERNAL,
    )
}


def error_body(error: ErrorCode, message: str, field: str | None = None) -> dict[str, object]:
    """The JSON body for ``error``."""
    inner: dict[str, object] = {"code": error.code, "number": error.number, "message": message}
    if field is not None:
        inner["field"] = field
    return {"error": inner}


@dataclass(frozen=True, slots=True)
class ApiErrorInfo:
    """An error answer as a client reads it."""

    status: int
    code: str
    message: str
    field: str | None = None


def read_error_body(status: int, body: object) -> ApiErrorInfo:
    """Interpret an error response; tolerates bodies that are not ours (proxies, bugs)."""
    inner = body.get("error") if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        return ApiErrorInfo(status, "http_error", f"HTTP {status}")
    field = inner.get("field")
    return ApiErrorInfo(
        status,
        str(inner.get("code", "http_error")),
        str(inner.get("message", f"HTTP {status}")),
        field if isinstance(field, str) else None,
    )


_ETAG = re.compile(r'(?:W/)?"?([0-9a-fA-F]{16})"?')


def format_etag(version: int) -> str:
    """The ``ETag`` of the backend list at ``version``: 16 hex digits, quoted (RFC 9110)."""
    return f'"{version & 0xFFFF_FFFF_FFFF_FFFF:016x}"'


def parse_if_none_match(header: str) -> list[int] | None:
    """Versions named by an ``If-None-Match`` header; ``None`` if a member does not parse.

    Quoted and unquoted tags are both accepted (the original emitted unquoted ones); ``*``
    yields ``[-1]``, which matches any current version.
    """
    versions: list[int] = []
    for member in header.split(","):
        member = member.strip()
        if member == "*":
            versions.append(-1)
            continue
        match = _ETAG.fullmatch(member)
        if match is None:
            return None
        versions.append(int(match.group(1), 16))
    return versions
