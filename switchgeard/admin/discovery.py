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
    add_resource,
    check_same,
    create_response,
    empty_response,
    json_response,
    node_key_param,
    put_response,
    read_body,
)
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
        backend = backend_from_json(await read_body(BACKEND_FIELDS))
        location = protocol.backend_path(backend.public_key)
        return await create_response(
            store.create_backend, backend, backend_to_json, location=location, field="publicKey"
        )

    async def get_backend(public_key: str) -> Response:
        backend = await store.get_backend(node_key_param(public_key))
        return json_response(backend_to_json(backend))

    async def put_backend(public_key: str) -> Response:
        key = node_key_param(public_key)
        body = await read_body(BACKEND_FIELDS)
        if body.get("publicKey") is not None:
            check_same({"publicKey": parse_node_key(str(body["publicKey"]))}, "publicKey", key)
        backend = backend_from_json(body, public_key=key)
        location = protocol.backend_path(key)
        return put_response(await store.put_backend(backend), backend_to_json, location)

    async def patch_backend(public_key: str) -> Response:
        key = node_key_param(public_key)
        patch = backend_patch_from_json(await read_body(PATCH_FIELDS))
        await store.patch_backend(key, patch)
        return empty_response(204)

    async def delete_backend(public_key: str) -> Response:
        await store.delete_backend(node_key_param(public_key))
        return empty_response(204)

    add_resource(
        app,
        (protocol.DISCOVERY, f"{protocol.DISCOVERY}/<public_key>"),
        {"GET": list_backends, "POST": create_backend},
        {"GET": get_backend, "PUT": put_backend, "PATCH": patch_backend, "DELETE": delete_backend},
    )
