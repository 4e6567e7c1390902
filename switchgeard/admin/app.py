"""The admin quart-trio application: routes, error rendering, the audit log and OpenAPI.

Whoever can open the Unix socket is an admin; the socket's mode and group are the access
control. Every mutation is logged on ``switchgeard.admin`` with the peer's uid when the
server makes it known: the ASGI scope's ``client`` is ``None`` on Unix sockets, so the
daemon's ``serve_asgi`` reads SO_PEERCRED per connection and puts the uid into
``scope["extensions"]["switchgeard.peer_uid"]``. Without it (TCP, not Linux, another
server) the audit line says ``uid=?``.
"""

from __future__ import annotations

import json
import logging
from importlib import resources

from quart import Response, request
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from switchgeard.admin import protocol
from switchgeard.admin.addresses import add_address_routes
from switchgeard.admin.discovery import add_discovery_routes
from switchgeard.admin.offers import add_metadata_routes, add_offer_routes
from switchgeard.admin.ports import AdminDeps
from switchgeard.admin.status import add_status_routes
from switchgeard.admin.wire import ApiError, json_response
from switchgeard.errors import Conflict, InvalidInput, NotFound, StoreUnavailable

audit_log = logging.getLogger("switchgeard.admin")
PEER_UID_EXTENSION = "switchgeard.peer_uid"
_MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def openapi_document() -> dict[str, object]:
    """The OpenAPI 3.1 document shipped in this package."""
    text = resources.files("switchgeard.admin").joinpath("openapi.json").read_text("utf-8")
    document: dict[str, object] = json.loads(text)
    return document


def create_admin_app(deps: AdminDeps) -> QuartTrio:
    """Build the admin app over ``deps``; the caller serves it (the daemon's ``serve_asgi``)."""
    app = QuartTrio("switchgeard.admin")
    app.config["MAX_CONTENT_LENGTH"] = protocol.MAX_BODY_BYTES
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    add_discovery_routes(app, deps)
    add_offer_routes(app, deps)
    add_metadata_routes(app, deps)
    add_address_routes(app, deps)
    add_status_routes(app, deps)
    document = openapi_document()

    async def openapi() -> Response:
        return json_response(document)

    app.add_url_rule(protocol.OPENAPI, "openapi", openapi, methods=["GET"])
    _add_error_handlers(app)
    app.before_request(_read_body)
    app.after_request(_audit)
    return app


def _peer_uid() -> str:
    uid = request.scope.get("extensions", {}).get(PEER_UID_EXTENSION)
    return "?" if uid is None else str(uid)


async def _read_body() -> None:
    # Take the whole body before answering, even when the answer does not need it: replying
    # while the client is still sending leaves a keep-alive connection stuck in hypercorn.
    if request.method in _MUTATIONS:
        await request.get_data(cache=True, parse_form_data=False)


async def _audit(response: Response) -> Response:
    if request.method in _MUTATIONS:
        audit_log.info(
            "%s %s -> %d uid=%s", request.method, request.path, response.status_code, _peer_uid()
        )
    return response


def _add_error_handlers(app: QuartTrio) -> None:
    async def api_error(exc: ApiError) -> Response:
        return exc.response()

    async def store_error(exc: Exception) -> Response:
        if isinstance(exc, StoreUnavailable):
            audit_log.warning(
                "admin %s %s: store unavailable: %s", request.method, request.path, exc
            )
        return _store_error(exc).response()

    async def http_error(exc: HTTPException) -> Response:
        return _http_error(exc).response()

    async def unexpected(exc: Exception) -> Response:
        audit_log.exception("admin %s %s failed", request.method, request.path)
        return ApiError(protocol.INTERNAL, "internal error; see the daemon's log").response()

    app.register_error_handler(ApiError, api_error)
    for cls in (NotFound, Conflict, InvalidInput, StoreUnavailable):
        app.register_error_handler(cls, store_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)


def _store_error(exc: Exception) -> ApiError:
    if isinstance(exc, InvalidInput):
        return ApiError(protocol.INVALID_VALUE, exc.reason, field=exc.field)
    if isinstance(exc, NotFound):
        return ApiError(protocol.NOT_FOUND, str(exc))
    if isinstance(exc, Conflict):
        return ApiError(protocol.CONFLICT, str(exc))
    return ApiError(protocol.STORE_UNAVAILABLE, "the store is unavailable; see the daemon's log")


def _http_error(exc: HTTPException) -> ApiError:
    code = exc.code or 500
    if code == 404:
        return ApiError(protocol.ROUTE_NOT_FOUND, f"no route {request.path}")
    if code == 405:
        allowed = exc.valid_methods if isinstance(exc, MethodNotAllowed) else None
        headers = {"Allow": ", ".join(sorted(allowed))} if allowed else None
        message = f"{request.method} not allowed here"
        return ApiError(protocol.METHOD_NOT_ALLOWED, message, headers=headers)
    if code == 413:
        # The rest of the body stays unread, so this connection cannot carry another request.
        limit = protocol.MAX_BODY_BYTES
        message = f"request body over {limit} bytes"
        return ApiError(protocol.BODY_TOO_LARGE, message, headers={"Connection": "close"})
    return ApiError(protocol.BAD_REQUEST, exc.description or f"HTTP {code}")
