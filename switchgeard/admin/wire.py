"""Request parsing and JSON responses for the admin app: the HTTP edge of every handler."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import NoReturn, TypeVar

from quart import Response, request
from quart_trio import QuartTrio

from switchgeard.admin import protocol
from switchgeard.errors import Conflict, InvalidInput
from switchgeard.store.codec import parse_node_key
from switchgeard.store.records import Page
from switchgeard.units import NodeKey

R = TypeVar("R")
View = Callable[..., Awaitable[Response]]

NO_CACHE = {"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache"}


class ApiError(Exception):
    """An error answer: raised by handlers, rendered once by the app."""

    def __init__(
        self,
        error: protocol.ErrorCode,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.field = field
        self.headers = dict(headers or {})

    def response(self) -> Response:
        body = protocol.error_body(self.error, self.message, self.field)
        return json_response(body, self.error.status, self.headers)


def json_response(
    body: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    response = Response(text, status=status, content_type=protocol.JSON_TYPE)
    response.headers.update(NO_CACHE)
    response.headers.update(dict(headers or {}))
    return response


def empty_response(status: int, headers: Mapping[str, str] | None = None) -> Response:
    """A 204 or 304: no body, so no Content-Type and no Content-Length (RFC 9110 8.6).

    Quart gives every response a ``text/html`` type and a length; a 304's length would
    also have to be that of the 200 it stands for, so neither is sent.
    """
    response = Response(b"", status=status)
    del response.headers["Content-Type"]
    del response.headers["Content-Length"]
    response.headers.update(NO_CACHE)
    response.headers.update(dict(headers or {}))
    return response


async def create_response(
    create: Callable[[R], Awaitable[R]],
    record: R,
    to_json: Callable[[R], object],
    *,
    location: str,
    field: str,
) -> Response:
    """POST: 201 with the created record at ``location``; 409 naming ``field`` if it exists."""
    try:
        created = await create(record)
    except Conflict as exc:
        raise ApiError(
            protocol.CONFLICT, str(exc), field=field, headers={"Location": location}
        ) from exc
    return json_response(to_json(created), 201, {"Location": location})


def put_response(stored: tuple[R, bool], to_json: Callable[[R], object], location: str) -> Response:
    """PUT: 201 with the record at ``location`` if it was created, else 204."""
    record, created = stored
    if created:
        return json_response(to_json(record), 201, {"Location": location})
    return empty_response(204)


def add_resource(
    app: QuartTrio, paths: tuple[str, str], collection: dict[str, View], item: dict[str, View]
) -> None:
    """Route a resource: ``paths`` are the collection's and an item's, each view by method.

    Each view's endpoint is its function name, so one view may serve several paths.
    """
    for path, views in zip(paths, (collection, item), strict=True):
        for method, view in views.items():
            app.add_url_rule(path, view_func=view, methods=[method])


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


async def read_json_object() -> dict[str, object]:
    """The request body as a JSON object; 415, 400 or 422 errors otherwise."""
    if request.mimetype != protocol.JSON_TYPE:
        shown = request.mimetype or "none"
        raise ApiError(
            protocol.UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type must be {protocol.JSON_TYPE}, not {shown}",
            field="Content-Type",
        )
    raw: bytes = await request.get_data(cache=True, as_text=False, parse_form_data=False)
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(protocol.INVALID_JSON, f"request body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ApiError(protocol.INVALID_VALUE, "request body must be a JSON object", field="(body)")
    return value


async def read_body(allowed: frozenset[str], **from_path: str) -> dict[str, object]:
    """A JSON object body with only ``allowed`` fields; path values it repeats must agree."""
    body = await read_json_object()
    check_fields(body, allowed)
    for field, value in from_path.items():
        check_same(body, field, value)
    return body


def node_key_param(text: str) -> NodeKey:
    """A public key from the path; 400 naming ``publicKey`` if it is not one."""
    try:
        return parse_node_key(text)
    except InvalidInput as exc:
        raise ApiError(protocol.INVALID_PARAMETER, exc.reason, field="publicKey") from exc


def uuid_param(text: str, field: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        raise ApiError(
            protocol.INVALID_PARAMETER, f"not a UUID: {text[:64]!r}", field=field
        ) from exc


def _int_query(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise ApiError(protocol.INVALID_PARAMETER, "must be a non-negative integer", field=name)
    return int(raw)


def page_query(page_default: int, page_max: int) -> Page:
    """``start``/``count`` from the query string; ``count`` above ``page_max`` is refused."""
    start = _int_query("start", 0)
    count = _int_query("count", page_default)
    if count > page_max:
        raise ApiError(protocol.INVALID_PARAMETER, f"must be at most {page_max}", field="count")
    return Page(start=start, count=count)


def bool_query(name: str, default: bool) -> bool:
    raw = request.args.get(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ApiError(protocol.INVALID_PARAMETER, "must be true or false", field=name)


BACKEND_FIELDS = frozenset(
    {"publicKey", "name", "partitions", "weight", "enabled", "implementation"}
)
PATCH_FIELDS = frozenset({"name", "partitions", "weight", "enabled", "implementation"})
METADATA_FIELDS = frozenset({"id", "partition", "text", "longText", "image", "identifier"})
OFFER_FIELDS = frozenset(
    {
        "partition",
        "id",
        "maxSendable",
        "minSendable",
        "metadataId",
        "metadata",
        "timestamp",
        "expires",
        "commentAllowed",
    }
)


def check_fields(body: Mapping[str, object], allowed: frozenset[str]) -> None:
    """Refuse top-level fields the resource does not have (422 naming the first one)."""
    for key in sorted(body):
        if key not in allowed:
            raise ApiError(protocol.UNKNOWN_FIELD, "not a field of this resource", field=key)


def check_same(body: Mapping[str, object], field: str, from_path: str) -> None:
    """A PUT body may repeat the path's ``field``, but must then agree with it."""
    value = body.get(field)
    if value is not None and str(value).lower() != from_path.lower():
        raise ApiError(
            protocol.INVALID_VALUE, f"does not match the path ({from_path})", field=field
        )
