"""``/discovery``: the backends (Lightning nodes) the balancer may use."""

from __future__ import annotations

from quart import Response, request
from quart_trio import QuartTrio

from switchgeard.admin import protocol
from switchgeard.admin.ports import AdminDeps
from switchgeard.admin.wire import (
    BACKEND_FIELDS,
    PATCH_FIELDS,
    ApiError,
    check_fields,
    check_same,
    empty_response,
    json_response,
    node_key_param,
    read_json_object,
)
from switchgeard.errors import Conflict
from switchgeard.store.codec import (
    backend_from_json,
    backend_patch_from_json,
    backend_to_json,
    parse_node_key,
)


def add_discovery_routes(app: QuartTrio, deps: AdminDeps) -> None:
    """Register the backend routes on ``app``."""
    store = deps.store

    async def list_backends() -> Response:
        # Read the version first: a concurrent write then only makes the tag older, never newer.
        version = await store.backend_version()
        etag = protocol.format_etag(version)
        header = request.headers.get("If-None-Match")
        if header is not None:
            wanted = protocol.parse_if_none_match(header)
            if wanted is None:
                raise ApiError(
                    protocol.INVALID_PARAMETER,
                    "not a list of entity tags",
                    field="If-None-Match",
                )
            if version in wanted or -1 in wanted:
                return empty_response(304, {"ETag": etag})
        backends = await store.list_backends()
        return json_response([backend_to_json(b) for b in backends], 200, {"ETag": etag})

    async def create_backend() -> Response:
        body = await read_json_object()
        check_fields(body, BACKEND_FIELDS)
        backend = backend_from_json(body)
        location = protocol.backend_path(backend.public_key)
        try:
            created = await store.create_backend(backend)
        except Conflict as exc:
            raise ApiError(
                protocol.CONFLICT, str(exc), field="publicKey", headers={"Location": location}
            ) from exc
        return json_response(backend_to_json(created), 201, {"Location": location})

    async def get_backend(public_key: str) -> Response:
        backend = await store.get_backend(node_key_param(public_key))
        return json_response(backend_to_json(backend))

    async def put_backend(public_key: str) -> Response:
        key = node_key_param(public_key)
        body = await read_json_object()
        check_fields(body, BACKEND_FIELDS)
        if body.get("publicKey") is not None:
            check_same({"publicKey": parse_node_key(str(body["publicKey"]))}, "publicKey", key)
        backend = backend_from_json(body, public_key=key)
        stored, created = await store.put_backend(backend)
        if created:
            location = {"Location": protocol.backend_path(key)}
            return json_response(backend_to_json(stored), 201, location)
        return empty_response(204)

    async def patch_backend(public_key: str) -> Response:
        key = node_key_param(public_key)
        body = await read_json_object()
        check_fields(body, PATCH_FIELDS)
        patch = backend_patch_from_json(body)
        await store.patch_backend(key, patch)
        return empty_response(204)

    async def delete_backend(public_key: str) -> Response:
        await store.delete_backend(node_key_param(public_key))
        return empty_response(204)

    base = protocol.DISCOVERY
    app.add_url_rule(base, "list_backends", list_backends, methods=["GET"])
    app.add_url_rule(base, "create_backend", create_backend, methods=["POST"])
    item = f"{base}/<public_key>"
    app.add_url_rule(item, "get_backend", get_backend, methods=["GET"])
    app.add_url_rule(item, "put_backend", put_backend, methods=["PUT"])
    app.add_url_rule(item, "patch_backend", patch_backend, methods=["PATCH"])
    app.add_url_rule(item, "delete_backend", delete_backend, methods=["DELETE"])
