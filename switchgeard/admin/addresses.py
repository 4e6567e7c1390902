"""``/addresses``: Lightning Addresses (LUD-16), ``username@domain``.

Local addresses are written by admins. Addresses synced from LDAP are read-only here except
for ``enabled`` (an admin's override, which the syncer keeps): any other write to one is
409 ``ldap_managed``, naming the first field it would change (``source`` for PUT and
DELETE). Path and query values are normalised as the store does (lower case).
"""

from __future__ import annotations

from typing import Literal

from quart import Response, request
from quart_trio import QuartTrio

from switchgeard.admin import protocol
from switchgeard.admin.ports import AdminDeps, AdminStore
from switchgeard.admin.wire import (
    ApiError,
    add_resource,
    check_fields,
    create_response,
    empty_response,
    json_response,
    page_query,
    put_response,
    read_body,
    read_json_object,
)
from switchgeard.errors import Conflict, InvalidInput, NotFound
from switchgeard.store import values
from switchgeard.store.codec import (
    ADDRESS_EDITABLE_FIELDS,
    ADDRESS_KEY_FIELDS,
    ADDRESS_READ_ONLY_FIELDS,
    address_from_json,
    address_to_json,
)
from switchgeard.store.records import Address

ADDRESS_FIELDS = ADDRESS_KEY_FIELDS | ADDRESS_EDITABLE_FIELDS | ADDRESS_READ_ONLY_FIELDS
"""A POST or PUT body's fields; read-only ones are ignored (a GET answer can be sent back)."""
_REMOVABLE = frozenset({"longText", "image"})
_SOURCES: dict[str, Literal["local", "ldap"]] = {"local": "local", "ldap": "ldap"}


def add_address_routes(app: QuartTrio, deps: AdminDeps) -> None:
    """Register the address routes on ``app``."""
    store, info = deps.store, deps.info

    async def list_addresses() -> Response:
        page = page_query(info.page_default, info.page_max)
        domain, source = _filters()
        found = await store.list_addresses(page, domain=domain, source=source)
        return json_response([address_to_json(a) for a in found])

    async def create_address() -> Response:
        address = address_from_json(await read_body(ADDRESS_FIELDS))
        location = protocol.address_path(address.domain, address.username)
        return await create_response(
            store.create_address, address, address_to_json, location=location, field="username"
        )

    async def get_address(domain: str, username: str) -> Response:
        return json_response(
            address_to_json(await store.get_address(*address_key(domain, username)))
        )

    async def put_address(domain: str, username: str) -> Response:
        domain, username = address_key(domain, username)
        body = await read_body(ADDRESS_FIELDS, domain=domain, username=username)
        address = address_from_json(body, domain=domain, username=username)
        await _refuse_ldap(store, domain, username)
        location = protocol.address_path(domain, username)
        return put_response(await store.put_address(address), address_to_json, location)

    async def patch_address(domain: str, username: str) -> Response:
        domain, username = address_key(domain, username)
        body = await read_json_object()
        _check_patch_fields(body)
        await patch(store, await store.get_address(domain, username), body)
        return empty_response(204)

    async def delete_address(domain: str, username: str) -> Response:
        domain, username = address_key(domain, username)
        current = await store.get_address(domain, username)
        if current.source != "local":
            raise _ldap_managed(current, "source", "disable it, or remove it from the directory")
        await store.delete_address(domain, username)
        return empty_response(204)

    add_resource(
        app,
        (protocol.ADDRESSES, f"{protocol.ADDRESSES}/<domain>/<username>"),
        {"GET": list_addresses, "POST": create_address},
        {"GET": get_address, "PUT": put_address, "PATCH": patch_address, "DELETE": delete_address},
    )


def address_key(domain: str, username: str) -> tuple[str, str]:
    """``(domain, username)`` from the path, lower-cased; 400 naming the bad one."""
    try:
        return (
            values.hostname("domain", domain, allow_port=True),
            values.username("username", username),
        )
    except InvalidInput as exc:
        raise ApiError(protocol.INVALID_PARAMETER, exc.reason, field=exc.field) from exc


async def patch(store: AdminStore, current: Address, body: dict[str, object]) -> None:
    """Apply a PATCH body: ``enabled`` alone for any address, other fields for local ones."""
    changes = sorted(key for key in body if key != "enabled")
    if changes and current.source != "local":
        raise _ldap_managed(current, changes[0], "only enabled can be changed here")
    if not changes:
        if "enabled" in body:
            enabled = body["enabled"]
            if not isinstance(enabled, bool):
                raise ApiError(protocol.INVALID_VALUE, "must be true or false", field="enabled")
            await store.set_address_enabled(current.domain, current.username, enabled)
        return
    merged = address_to_json(current) | body
    merged = {k: v for k, v in merged.items() if not (k in _REMOVABLE and v is None)}
    try:
        await store.put_address(address_from_json(merged))
    except Conflict as exc:  # LDAP took the name over since it was read
        raise ApiError(protocol.LDAP_MANAGED, str(exc), field=changes[0]) from exc


def _check_patch_fields(body: dict[str, object]) -> None:
    for key in sorted(body):
        if key in ADDRESS_KEY_FIELDS:
            message = "is part of the address and cannot be changed; create a new address"
            raise ApiError(protocol.INVALID_VALUE, message, field=key)
        if key in ADDRESS_READ_ONLY_FIELDS:
            raise ApiError(protocol.INVALID_VALUE, "is read-only", field=key)
    check_fields(body, ADDRESS_EDITABLE_FIELDS)


async def _refuse_ldap(store: AdminStore, domain: str, username: str) -> None:
    try:
        current = await store.get_address(domain, username)
    except NotFound:
        return
    if current.source != "local":
        raise _ldap_managed(current, "source", "change it in the directory")


def _ldap_managed(address: Address, field: str, hint: str) -> ApiError:
    name = f"{address.username}@{address.domain}"
    return ApiError(protocol.LDAP_MANAGED, f"{name} is managed by LDAP; {hint}", field=field)


def _filters() -> tuple[str | None, Literal["local", "ldap"] | None]:
    domain = request.args.get("domain")
    if domain is not None:
        try:
            domain = values.hostname("domain", domain, allow_port=True)
        except InvalidInput as exc:
            raise ApiError(protocol.INVALID_PARAMETER, exc.reason, field="domain") from exc
    raw = request.args.get("source")
    source = None if raw is None else _SOURCES.get(raw)
    if raw is not None and source is None:
        raise ApiError(protocol.INVALID_PARAMETER, "must be local or ldap", field="source")
    return domain, source
