"""The first call (``GET /offers/{partition}/{id}``) answered without Quart's request cycle.

Wallets fetch the payRequest far more often than anything else, and Quart's own work per
request (request context, routing, hooks) costs more than the answer itself. ``fast_first_call``
sits in front of the Quart app: a plain ``GET`` of exactly that path is answered from the
same ``pay``/``render``/``origin`` functions the Quart route uses, with the same Response
object sent the way Quart sends it, so status, headers and body are the same bytes. Any
other request, and any first call that does not succeed (unknown offer, bad host, store
error), goes to the Quart app unchanged, which answers it as always; a first call has no
side effects, so repeating its lookup there is harmless.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from quart import Response
from quart.utils import encode_headers

from switchgeard.lnurl import pay, render
from switchgeard.lnurl.origin import Origin, ProxyPolicy, resolve_origin

ASGIApp = Callable[..., Awaitable[None]]


class FirstCallService(Protocol):
    """What the first call needs from the app's service, read per request (reloads apply)."""

    @property
    def policy(self) -> ProxyPolicy: ...

    @property
    def partitions(self) -> frozenset[str]: ...

    async def load(self, partition: str, id_text: str) -> pay.LoadedOffer: ...

    def cache(self, loaded: pay.LoadedOffer) -> dict[str, str]: ...


def fast_first_call(app: ASGIApp, service: FirstCallService) -> ASGIApp:
    """``app`` with first calls answered directly (see the module docstring)."""

    async def serve(scope: dict[str, Any], receive: Any, send: Any) -> None:
        route = _first_call_route(scope)
        response = None if route is None else await _answer(service, scope, *route)
        if response is None:
            await app(scope, receive, send)
            return
        body = await response.get_data()
        headers = encode_headers(response.headers)
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return serve


def _first_call_route(scope: dict[str, Any]) -> tuple[str, str] | None:
    if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
        return None
    parts = scope["path"].split("/")
    if len(parts) != 4 or parts[0] or parts[1] != "offers" or not parts[2] or not parts[3]:
        return None
    return parts[2], parts[3]


async def _answer(
    service: FirstCallService, scope: dict[str, Any], partition: str, id_text: str
) -> Response | None:
    """The Quart route's answer, or None for anything but a found, current offer."""
    if partition not in service.partitions:
        return None
    try:
        origin = _origin(scope, service.policy)
        loaded = await service.load(partition, id_text)
    except Exception:  # the Quart route answers every failure, as it always has
        return None
    callback = origin.url(f"/offers/{loaded.offer.partition}/{loaded.offer.id}/invoice")
    body = pay.pay_request(loaded.offer, loaded.metadata, callback)
    return render.json_response(body, headers=service.cache(loaded))


def _origin(scope: dict[str, Any], policy: ProxyPolicy) -> Origin:
    """``resolve_origin`` over the headers as Quart presents them (latin-1, lower-cased
    names, repeated headers joined with commas)."""
    joined: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin1").lower(), raw_value.decode("latin1")
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    client = scope.get("client")
    peer = str(client[0]) if client else None
    return resolve_origin(joined, peer, policy, tls=scope["scheme"] == "https")
