"""The two busiest routes answered without Quart's request cycle.

Wallets fetch the payRequest (``GET /offers/{partition}/{id}``) and its callback
(``…/invoice``) far more often than anything else, and Quart's own work per request
(request context, routing, hooks) costs about as much as the answer itself.
``fast_offer_routes`` sits in front of the Quart app: a plain ``GET`` of exactly those
paths is answered by the same ``pay``/``render``/``origin`` functions the Quart routes
call, rendered by ``render.json_wire`` as Quart sends ``render.json_response``'s Response
(without building one), so status, headers and body are the same bytes
(``tests/lnurl/test_lnurl_fast.py`` compares them).

Anything the fast path does not answer goes to the Quart app unchanged: other methods and
paths, and every request that fails before an invoice is asked for (bad or unknown offer,
bad host, bad amount or comment, store error). Those steps have no side effects, so the
Quart route repeats them and answers as it always has. Once the balancer has been asked
for an invoice, its outcome is answered here, errors through ``render.render_error`` as
the Quart app's error handler does, so no callback ever issues two invoices.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qsl

from switchgeard.lnurl import pay, render
from switchgeard.lnurl.origin import Origin, ProxyPolicy, resolve_origin

ASGIApp = Callable[..., Awaitable[None]]
Scope = Mapping[str, Any]


class OfferService(Protocol):
    """What the offer routes need from the app's service, read per request (reloads apply)."""

    @property
    def policy(self) -> ProxyPolicy: ...

    @property
    def invoices(self) -> pay.InvoiceIssuer: ...

    @property
    def invoice_expiry(self) -> int: ...

    def offer_id(self, partition: str, id_text: str) -> uuid.UUID: ...

    async def load(self, partition: str, offer_id: uuid.UUID) -> pay.LoadedOffer: ...

    def cache(self, loaded: pay.LoadedOffer) -> dict[str, str]: ...

    def hash_key_for(self, scope: Scope, comment: str) -> str | None: ...


def fast_offer_routes(app: ASGIApp, service: OfferService) -> ASGIApp:
    """``app`` with first calls and callbacks answered directly (see the module docstring)."""

    async def serve(scope: dict[str, Any], receive: Any, send: Any) -> None:
        route = _offer_route(scope)
        wire = None
        if route is not None:
            partition, id_text, callback = route
            answer = _callback if callback else _first_call
            wire = await answer(service, scope, partition, id_text)
        if wire is None:
            await app(scope, receive, send)
            return
        start = {"type": "http.response.start", "status": wire.status}
        await send({**start, "headers": wire.headers})
        await send({"type": "http.response.body", "body": wire.body, "more_body": False})

    return serve


def _offer_route(scope: Scope) -> tuple[str, str, bool] | None:
    """(partition, id, is the callback) for a plain GET of an offer or its callback."""
    if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
        return None
    parts = scope["path"].split("/")
    if len(parts) == 5 and parts[4] == "invoice":
        callback = True
    elif len(parts) == 4:
        callback = False
    else:
        return None
    if parts[0] or parts[1] != "offers" or not parts[2] or not parts[3]:
        return None
    return parts[2], parts[3], callback


async def _loaded(
    service: OfferService, scope: Scope, partition: str, id_text: str
) -> tuple[Origin, pay.LoadedOffer]:
    """The Quart routes' ``service.offer`` over the raw scope, in the same order."""
    offer_id = service.offer_id(partition, id_text)
    origin = _origin(scope, service.policy)
    return origin, await service.load(partition, offer_id)


async def _first_call(
    service: OfferService, scope: Scope, partition: str, id_text: str
) -> render.Wire | None:
    try:
        origin, loaded = await _loaded(service, scope, partition, id_text)
    except Exception:  # the Quart route answers every failure, as it always has
        return None
    callback = origin.url(f"/offers/{loaded.offer.partition}/{loaded.offer.id}/invoice")
    body = pay.pay_request(loaded.offer, loaded.metadata, callback)
    return render.json_wire(body, headers=service.cache(loaded))


async def _callback(
    service: OfferService, scope: Scope, partition: str, id_text: str
) -> render.Wire | None:
    try:
        origin, loaded = await _loaded(service, scope, partition, id_text)
        amount, comment = pay.parse_callback(_query(scope), loaded.offer)
    except Exception:  # nothing issued yet: the Quart route answers the failure
        return None
    try:
        body = await pay.answer_offer_callback(
            _CallbackScope(service, scope), origin, loaded, amount, comment
        )
    except Exception as exc:  # as the Quart app's error handler, after the invoice was asked
        return await render.wire_of(render.render_error(exc))
    return render.json_wire(body)


class _CallbackScope:
    """``pay.CallbackService`` for one request outside Quart's request context."""

    def __init__(self, service: OfferService, scope: Scope) -> None:
        self.invoices = service.invoices
        self.invoice_expiry = service.invoice_expiry
        self._service = service
        self._scope = scope

    def hash_key(self, comment: str) -> str | None:
        return self._service.hash_key_for(self._scope, comment)


def _query(scope: Scope) -> dict[str, list[str]]:
    """``request.args.to_dict(flat=False)``: werkzeug's own parse of the query string."""
    args: dict[str, list[str]] = {}
    pairs = parse_qsl(
        scope["query_string"].decode(), keep_blank_values=True, errors="werkzeug.url_quote"
    )
    for name, value in pairs:
        args.setdefault(name, []).append(value)
    return args


def _origin(scope: Scope, policy: ProxyPolicy) -> Origin:
    """``resolve_origin`` over the headers as Quart presents them (latin-1, lower-cased
    names, repeated headers joined with commas)."""
    joined: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin1").lower(), raw_value.decode("latin1")
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    client = scope.get("client")
    peer = str(client[0]) if client else None
    return resolve_origin(joined, peer, policy, tls=scope["scheme"] == "https")
