"""The public LNURL-pay app: thin routes over ``pay``, ``verify`` and ``render``.

Routes follow the original Switchgear so printed LNURLs keep working, plus LUD-21 verify
and a ``/links`` helper. Every response, errors and ``OPTIONS`` included, carries
``Access-Control-Allow-Origin: *``; every error body is the LUD error JSON.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from quart import Response, request
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException

from switchgeard.config.model import LnurlConfig
from switchgeard.errors import DecodeError, NotFound, RequestError
from switchgeard.lnurl import pay, render
from switchgeard.lnurl.address import AddressLookup, add_address_routes
from switchgeard.lnurl.bech32 import encode_lnurl
from switchgeard.lnurl.fast import fast_offer_routes
from switchgeard.lnurl.origin import Origin, ProxyPolicy, client_address, resolve_origin
from switchgeard.lnurl.qr import QrStyle, qr_png
from switchgeard.lnurl.verify import InvoiceVerifier, parse_payment_hash
from switchgeard.ratelimit import Limiter, wrap_public_app
from switchgeard.telemetry.access import ClientIpFormat
from switchgeard.telemetry.metrics import Metrics

log = logging.getLogger("switchgeard.lnurl")


@dataclass(frozen=True, slots=True, kw_only=True)
class LnurlDeps:
    """What the public app talks to; each is a narrow protocol the daemon satisfies."""

    offers: pay.OfferLookup
    invoices: pay.InvoiceIssuer
    verifier: InvoiceVerifier
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    addresses: AddressLookup | None = None
    """Lightning Addresses (LUD-16); None answers every address with 404."""
    limiter: Limiter | None = None
    """Rate limits (``[ratelimit]``); None serves without limits."""
    metrics: Metrics | None = None
    client_ip: ClientIpFormat | None = None
    """How access lines write client addresses (``[logging] client_ip``)."""


class _Service:
    def __init__(self, deps: LnurlDeps, cfg: LnurlConfig) -> None:
        self.deps = deps
        self.addresses = deps.addresses
        self.invoices = deps.invoices
        self.apply(cfg)

    def apply(self, cfg: LnurlConfig) -> None:
        """Serve with ``cfg`` from now on; ConfigError (nothing changed) if it is unusable."""
        policy = ProxyPolicy(cfg.trusted_proxies, cfg.allowed_hosts)
        self.cfg = cfg
        self.partitions = frozenset(cfg.partitions)
        self.policy = policy
        self.qr = QrStyle(cfg.qr_scale, cfg.qr_dark, cfg.qr_light)
        self.invoice_expiry = int(cfg.invoice_expiry)

    def origin(self) -> Origin:
        peer = _peer()
        return resolve_origin(_headers(), peer, self.policy, tls=request.scheme == "https")

    async def offer(self, partition: str, id_text: str) -> tuple[Origin, pay.LoadedOffer]:
        offer_id = self.offer_id(partition, id_text)
        origin = self.origin()
        return origin, await self.load(partition, offer_id)

    def offer_id(self, partition: str, id_text: str) -> uuid.UUID:
        """The offer id of a path; RequestError (404) for a bad id or a partition not served."""
        offer_id = pay.parse_offer_id(id_text)
        if partition not in self.partitions:
            raise pay.offer_not_found(offer_id)
        return offer_id

    async def load(self, partition: str, offer_id: uuid.UUID) -> pay.LoadedOffer:
        """The current offer; RequestError (404) when missing, expired or not yet valid."""
        return await pay.load_offer(self.deps.offers, partition, offer_id, self.deps.clock())

    def cache(self, loaded: pay.LoadedOffer) -> dict[str, str]:
        return render.cache_headers(loaded.offer.expires, self.deps.clock())

    def hash_key(self, comment: str) -> str | None:
        return self.hash_key_for(request.scope, comment)

    def hash_key_for(self, scope: Mapping[str, Any], comment: str) -> str | None:
        """The balancer's consistent-hash key of a callback (the comment or the payer)."""
        if self.deps.invoices.consistent_key == "client_ip":
            return client_address(scope, self.policy)
        return comment or None


def _headers() -> dict[str, str]:
    """Request headers by lower-case name; repeated headers joined with commas (RFC 9110)."""
    joined: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return joined


def _peer() -> str | None:
    client = request.scope.get("client")
    return str(client[0]) if client else None


def _offer_path(loaded: pay.LoadedOffer) -> str:
    return f"/offers/{loaded.offer.partition}/{loaded.offer.id}"


def create_lnurl_app(deps: LnurlDeps, cfg: LnurlConfig) -> QuartTrio:
    """Build the public app. Raises ``ConfigError`` for an invalid ``[lnurl]`` section."""
    service = _Service(deps, cfg)
    if not cfg.allowed_hosts:
        log.warning("[lnurl] allowed_hosts is empty: links are built for any Host a client sends")
    app = QuartTrio(__name__)
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.extensions[_SERVICE] = service
    _add_hooks(app)
    _add_offer_routes(app, service)
    add_address_routes(app, service)
    _add_service_routes(app, service)
    app.asgi_app = wrap_public_app(  # type: ignore[method-assign]
        fast_offer_routes(app.asgi_app, service),
        limiter=deps.limiter,
        metrics=deps.metrics,
        client_ip=deps.client_ip,
    )
    return app


def apply_lnurl_config(app: QuartTrio, cfg: LnurlConfig) -> None:
    """Apply a reloaded ``[lnurl]`` section to an app from ``create_lnurl_app``.

    Partitions, allowed hosts, trusted proxies, invoice expiry and QR style change for the
    next request; the listeners (``listen``, ``tls_*``, ``socket_*``) need a restart.
    Raises ``ConfigError`` and keeps the running settings if ``cfg`` is unusable.
    """
    service: _Service = app.extensions[_SERVICE]
    service.apply(cfg)


def lnurl_config(app: QuartTrio) -> LnurlConfig:
    """The ``[lnurl]`` section an app from ``create_lnurl_app`` serves with now."""
    service: _Service = app.extensions[_SERVICE]
    return service.cfg


_SERVICE = "switchgeard.lnurl"


def _add_hooks(app: QuartTrio) -> None:
    @app.before_request
    async def preflight() -> Response | None:
        if request.method == "OPTIONS":
            return Response("", status=204, headers=render.CORS_HEADERS)
        return None

    @app.after_request
    async def cors(response: Response) -> Response:
        for name, value in render.CORS_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        reason = "not found" if code == 404 else (exc.name or "error").lower()
        return render.lud_error(code, reason if code < 500 else render.INTERNAL_REASON)

    @app.errorhandler(Exception)
    async def any_error(exc: Exception) -> Response:
        return render.render_error(exc)


def _add_offer_routes(app: QuartTrio, service: _Service) -> None:
    @app.get("/offers/<partition>/<id_text>")
    async def first_call(partition: str, id_text: str) -> Response:
        origin, loaded = await service.offer(partition, id_text)
        callback = origin.url(_offer_path(loaded) + "/invoice")
        body = pay.pay_request(loaded.offer, loaded.metadata, callback)
        return render.json_response(body, headers=service.cache(loaded))

    @app.get("/offers/<partition>/<id_text>/invoice")
    async def callback(partition: str, id_text: str) -> Response:
        origin, loaded = await service.offer(partition, id_text)
        amount, comment = pay.parse_callback(request.args.to_dict(flat=False), loaded.offer)
        body = await pay.answer_offer_callback(service, origin, loaded, amount, comment)
        return render.json_response(body)

    @app.get("/offers/<partition>/<id_text>/bech32")
    async def bech32(partition: str, id_text: str) -> Response:
        origin, loaded = await service.offer(partition, id_text)
        text = encode_lnurl(origin.url(_offer_path(loaded)))
        headers = {**render.CORS_HEADERS, **service.cache(loaded)}
        return Response(text, content_type="text/plain; charset=utf-8", headers=headers)

    @app.get("/offers/<partition>/<id_text>/bech32/qr")
    async def bech32_qr(partition: str, id_text: str) -> Response:
        origin, loaded = await service.offer(partition, id_text)
        png = qr_png(encode_lnurl(origin.url(_offer_path(loaded))), service.qr)
        headers = {**render.CORS_HEADERS, **service.cache(loaded)}
        return Response(png, content_type="image/png", headers=headers)

    @app.get("/offers/<partition>/<id_text>/links")
    async def links(partition: str, id_text: str) -> Response:
        origin, loaded = await service.offer(partition, id_text)
        return render.json_response(offer_links(origin, _offer_path(loaded)))


def offer_links(origin: Origin, path: str) -> dict[str, str]:
    """Every form of an offer's link: URL, bech32 LNURL, LUD-17 ``lnurlp://`` and the QR."""
    url = origin.url(path)
    return {
        "url": url,
        "lnurl": encode_lnurl(url),
        "lnurlp": f"lnurlp://{origin.host}{path}",
        "qr": url + "/bech32/qr",
    }


def _add_service_routes(app: QuartTrio, service: _Service) -> None:
    @app.get("/health")
    async def health() -> Response:
        return render.json_response({"status": "OK"})

    @app.get("/health/full")
    async def health_full() -> Response:
        if any(service.deps.invoices.selectable(p) for p in service.cfg.partitions):
            return render.json_response({"status": "OK"})
        return render.lud_error(503, render.UNAVAILABLE_REASON)

    @app.get("/verify/<payment_hash>")
    async def verify(payment_hash: str) -> Response:
        try:
            entry = await service.deps.verifier.verify_invoice(parse_payment_hash(payment_hash))
        except (NotFound, DecodeError):
            raise RequestError("Not found", status=404) from None
        settled = entry.settled_at is not None
        body = {"status": "OK", "settled": settled, "preimage": entry.preimage, "pr": entry.bolt11}
        return render.json_response(body)
