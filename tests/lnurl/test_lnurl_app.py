"""The public app through quart's test client, with fakes for every protocol it declares."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import bolt11
import pytest
from lnurl import LnurlPayActionResponse, LnurlPayResponse, LnurlResponse
from lnurl_fakes import (
    NOW,
    OFFER_ID,
    FakeBalancer,
    FakeLedger,
    FakeOffers,
    decode_qr,
    make_metadata,
    make_offer,
)
from quart_trio import QuartTrio
from signed_invoices import NODE

from switchgeard.config.model import LnurlConfig, Seconds
from switchgeard.errors import (
    BackendRejected,
    BackendUnavailable,
    NoHealthyBackend,
    StoreUnavailable,
)
from switchgeard.lnurl import LedgerVerifier, LnurlDeps, create_lnurl_app
from switchgeard.lnurl.bech32 import decode_lnurl
from switchgeard.units import PaymentHash

OFFER = f"/offers/default/{OFFER_ID}"
SERVED_METADATA = (
    '[["text/plain","Café ☕ for \\"everyone\\""],["text/long-desc","line one\\nline two"],'
    '["image/png;base64","AAE="],["text/email","shop@example.com"]]'
)
HEADERS = {"Host": "127.0.0.1:8080"}


class World:
    def __init__(self, **cfg: Any) -> None:
        self.offers = FakeOffers((make_offer(), make_metadata()))
        self.ledger = FakeLedger()
        self.balancer = FakeBalancer(self.ledger)
        self.cfg = LnurlConfig(**cfg)

    def app(self) -> QuartTrio:
        deps = LnurlDeps(
            offers=self.offers,
            invoices=self.balancer,
            verifier=LedgerVerifier(self.ledger, self.ledger, clock=lambda: NOW),
            clock=lambda: NOW,
        )
        return create_lnurl_app(deps, self.cfg)

    async def get(self, path: str, *, method: str = "GET", **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", HEADERS)
        client = self.app().test_client()
        return await client.open(path, method=method, headers=headers, **kwargs)


@pytest.fixture
def world() -> World:
    return World()


async def body_json(response: Any) -> Any:
    return json.loads(await response.get_data(as_text=True))


async def test_first_call_is_an_exact_lud06_pay_request(world: World) -> None:
    response = await world.get(OFFER)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "no-store, no-cache, must-revalidate"
    assert response.headers["Pragma"] == "no-cache"
    body = await body_json(response)
    assert body == {
        "callback": f"http://127.0.0.1:8080{OFFER}/invoice",
        "maxSendable": 1_000_000,
        "minSendable": 1000,
        "tag": "payRequest",
        "metadata": SERVED_METADATA,
        "commentAllowed": 10,
    }
    parsed = LnurlResponse.from_dict(body)
    assert isinstance(parsed, LnurlPayResponse)
    assert parsed.metadata.h == hashlib.sha256(SERVED_METADATA.encode()).hexdigest()


async def test_comment_allowed_is_absent_when_comments_are_not_allowed(world: World) -> None:
    world.offers = FakeOffers((make_offer(comment_allowed=0), make_metadata()))
    body = await body_json(await world.get(OFFER))
    assert "commentAllowed" not in body


async def test_offer_with_expiry_is_cacheable_until_then(world: World) -> None:
    expires = NOW + timedelta(seconds=90, milliseconds=700)
    world.offers = FakeOffers((make_offer(expires=expires), make_metadata()))
    for path in (OFFER, OFFER + "/bech32", OFFER + "/bech32/qr"):
        response = await world.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "public, max-age=90"
        assert response.headers["Expires"] == "Wed, 25 Nov 2026 12:01:30 GMT"
        assert "Pragma" not in response.headers


async def test_callback_issues_a_description_hash_invoice_of_the_served_metadata(
    world: World,
) -> None:
    world.cfg = LnurlConfig(invoice_expiry=Seconds(180))
    response = await world.get(OFFER + "/invoice?amount=21000&comment=hi&nonce=7&fromnodes=x")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store, no-cache, must-revalidate"
    body = await body_json(response)
    call = world.balancer.calls[0]
    assert (call.partition, call.amount, call.expiry, call.key) == ("default", 21000, 180, "hi")
    assert call.reference == f"offer:default/{OFFER_ID}"
    assert call.description == SERVED_METADATA and call.description_hash_only
    entry = next(iter(world.ledger.entries.values()))
    assert entry.reference == f"offer:default/{OFFER_ID}" and entry.amount_msat == 21000
    assert body == {
        "pr": entry.bolt11,
        "routes": [],
        "disposable": False,
        "verify": f"http://127.0.0.1:8080/verify/{entry.payment_hash}",
    }
    assert isinstance(LnurlResponse.from_dict(body), LnurlPayActionResponse)
    decoded = bolt11.decode(body["pr"])
    assert decoded.amount_msat == 21000 and decoded.payee == NODE
    assert decoded.description_hash == hashlib.sha256(SERVED_METADATA.encode()).hexdigest()


async def test_comment_length_counts_unicode_characters(world: World) -> None:
    response = await world.get(
        OFFER + "/invoice", query_string={"amount": "1000", "comment": "☕" * 10}
    )
    assert response.status_code == 200
    assert world.balancer.calls[0].key == "☕" * 10


async def test_consistent_key_can_be_the_payer_address(world: World) -> None:
    world.balancer.consistent_key = "client_ip"
    world.cfg = LnurlConfig(trusted_proxies=("10.0.0.0/8",))
    # The leftmost entry is whatever the client sent; the proxies appended the rest.
    headers = {**HEADERS, "X-Forwarded-For": "198.51.100.66, 203.0.113.9, 10.0.0.2"}
    scope = {"client": ("10.1.2.3", 5555)}
    await world.get(OFFER + "/invoice?amount=1000", headers=headers, scope_base=scope)
    await world.get(OFFER + "/invoice?amount=1000", scope_base={"client": ("192.0.2.1", 1)})
    assert [c.key for c in world.balancer.calls] == ["203.0.113.9", "192.0.2.1"]


async def test_links_use_forwarded_origin_only_from_trusted_proxies(world: World) -> None:
    world.cfg = LnurlConfig(trusted_proxies=("127.0.0.1",), allowed_hosts=("pay.example.com",))
    headers = {
        "Host": "internal:8080",
        "Forwarded": 'for=1.2.3.4;proto=https;host="pay.example.com"',
    }
    trusted = await body_json(
        await world.get(OFFER, headers=headers, scope_base={"client": ("127.0.0.1", 1)})
    )
    assert trusted["callback"] == f"https://pay.example.com{OFFER}/invoice"
    untrusted = await world.get(OFFER, headers=headers, scope_base={"client": ("10.9.9.9", 1)})
    assert untrusted.status_code == 400
    assert (await body_json(untrusted))["reason"] == "host internal is not served here"


async def test_bech32_route_gives_the_uppercase_lnurl_of_the_offer_url(world: World) -> None:
    response = await world.get(OFFER + "/bech32")
    text = await response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert text.startswith("LNURL1") and text == text.upper() and len(text) > 90
    assert decode_lnurl(text) == f"http://127.0.0.1:8080{OFFER}"


async def test_qr_route_is_a_png_of_the_lnurl(world: World, tmp_path: Path) -> None:
    response = await world.get(OFFER + "/bech32/qr")
    assert response.headers["Content-Type"] == "image/png"
    png = await response.get_data()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    lnurl_text = await (await world.get(OFFER + "/bech32")).get_data(as_text=True)
    assert await decode_qr(png, tmp_path) == lnurl_text


async def test_links_route_gives_every_form(world: World) -> None:
    body = await body_json(await world.get(OFFER + "/links"))
    assert body["url"] == f"http://127.0.0.1:8080{OFFER}"
    assert body["lnurlp"] == f"lnurlp://127.0.0.1:8080{OFFER}"
    assert decode_lnurl(body["lnurl"]) == body["url"]
    assert body["qr"] == body["url"] + "/bech32/qr"


@pytest.mark.parametrize("path", [OFFER, OFFER + "/invoice", "/health", "/verify/00", "/nowhere"])
async def test_options_is_answered_with_cors(world: World, path: str) -> None:
    response = await world.get(path, method="OPTIONS")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


async def test_health_routes(world: World) -> None:
    assert (await world.get("/health")).status_code == 200
    assert (await world.get("/health/full")).status_code == 200
    world.balancer.healthy = {"elsewhere"}
    response = await world.get("/health/full")
    assert response.status_code == 503
    assert (await body_json(response))["status"] == "ERROR"


async def test_verify_reports_settlement_from_the_issuing_node(world: World) -> None:
    body = await body_json(await world.get(OFFER + "/invoice?amount=5000"))
    payment_hash = body["verify"].rsplit("/", 1)[1]
    unsettled = await body_json(await world.get(f"/verify/{payment_hash}"))
    assert unsettled == {"status": "OK", "settled": False, "preimage": None, "pr": body["pr"]}
    world.ledger.node_preimages[payment_hash] = "ff" * 32  # wrong preimage: ignored
    assert (await body_json(await world.get(f"/verify/{payment_hash}")))["settled"] is False
    preimage = (1).to_bytes(32, "big").hex()
    world.ledger.node_preimages[payment_hash] = preimage
    settled = await body_json(await world.get(f"/verify/{payment_hash.upper()}"))
    assert settled == {"status": "OK", "settled": True, "preimage": preimage, "pr": body["pr"]}
    lookups = world.ledger.lookups
    await world.get(f"/verify/{payment_hash}")
    assert world.ledger.lookups == lookups  # settled entries are answered from the ledger


async def test_a_settlement_verify_records_first_is_counted_once(world: World) -> None:
    """The node's settled count must not depend on whether its watcher or a wallet's
    verify got to the settlement first."""
    body = await body_json(await world.get(OFFER + "/invoice?amount=5000"))
    payment_hash = body["verify"].rsplit("/", 1)[1]
    world.ledger.node_preimages[payment_hash] = (1).to_bytes(32, "big").hex()
    for _ in range(2):
        assert (await body_json(await world.get(f"/verify/{payment_hash}")))["settled"] is True
    backend = world.ledger.entries[PaymentHash(payment_hash)].backend_key
    assert world.ledger.recorded_settlements == [backend]


async def test_verify_keeps_ledger_state_when_the_node_fails(world: World) -> None:
    body = await body_json(await world.get(OFFER + "/invoice?amount=5000"))
    world.ledger.node_failure = BackendUnavailable("down", key="k")
    response = await world.get(body["verify"].split("8080", 1)[1])
    assert (await body_json(response))["settled"] is False


# Every error row: (setup, method, path, extra headers) -> (status, reason fragment).
ERROR_ROWS: list[tuple[str, str, str, dict[str, str], int, str]] = [
    ("", "GET", "/nowhere", {}, 404, "not found"),
    ("", "GET", "/offers/default/not-a-uuid", {}, 404, "offer not found"),
    ("", "GET", f"/offers/other/{OFFER_ID}", {}, 404, f"offer not found: {OFFER_ID}"),
    ("", "GET", f"/offers/other/{OFFER_ID}/invoice?amount=1000", {}, 404, "offer not found"),
    ("missing", "GET", OFFER, {}, 404, "offer not found"),
    ("missing", "GET", OFFER + "/bech32", {}, 404, "offer not found"),
    ("missing", "GET", OFFER + "/bech32/qr", {}, 404, "offer not found"),
    ("expired", "GET", OFFER, {}, 404, "offer not found"),
    ("expired", "GET", OFFER + "/invoice?amount=1000", {}, 404, "offer not found"),
    ("future", "GET", OFFER + "/invoice?amount=1000", {}, 404, "offer not found"),
    ("missing", "GET", OFFER + "/invoice?amount=x", {}, 404, "offer not found"),
    ("", "GET", OFFER + "/invoice", {}, 400, "amount is required"),
    ("", "GET", OFFER + "/invoice?amount=abc", {}, 400, "non-negative integer"),
    ("", "GET", OFFER + "/invoice?amount=-5", {}, 400, "non-negative integer"),
    ("", "GET", OFFER + "/invoice?amount=1.5", {}, 400, "non-negative integer"),
    ("", "GET", OFFER + "/invoice?amount=1000&amount=2000", {}, 400, "once"),
    ("", "GET", OFFER + "/invoice?amount=x&comment=01234567890", {}, 400, "amount"),
    ("", "GET", OFFER + "/invoice?amount=1&comment=01234567890", {}, 400, "longer than 10"),
    ("", "GET", OFFER + "/invoice?amount=999", {}, 400, "[1000, 1000000]"),
    ("", "GET", OFFER + "/invoice?amount=1000001", {}, 400, "outside the valid range"),
    ("rejected", "GET", OFFER + "/invoice?amount=1000", {}, 400, "refused"),
    ("nobackend", "GET", OFFER + "/invoice?amount=1000", {}, 503, "try again later"),
    ("unavailable", "GET", OFFER + "/invoice?amount=1000", {}, 503, "try again later"),
    ("storedown", "GET", OFFER, {}, 503, "try again later"),
    ("ledgerdown", "GET", OFFER + "/invoice?amount=1000", {}, 503, "try again later"),
    ("", "GET", OFFER, {"Host": "bad host!"}, 400, "invalid Host"),
    ("", "GET", OFFER, {"Host": ""}, 400, "invalid Host"),
    ("allowlist", "GET", OFFER, {"Host": "evil.example:8080"}, 400, "not served here"),
    ("", "POST", OFFER, {}, 405, "method not allowed"),
    ("", "GET", "/verify/" + "ab" * 32, {}, 404, "Not found"),
    ("", "GET", "/verify/xyz", {}, 404, "Not found"),
    ("unhealthy", "GET", "/health/full", {}, 503, "try again later"),
    ("bug", "GET", OFFER + "/invoice?amount=1000", {}, 500, "internal server error"),
]


def _arrange(world: World, setup: str) -> None:
    match setup:
        case "missing":
            world.offers = FakeOffers()
        case "expired":
            world.offers = FakeOffers(
                (make_offer(expires=NOW - timedelta(seconds=1)), make_metadata())
            )
        case "future":
            world.offers = FakeOffers(
                (make_offer(timestamp=NOW + timedelta(seconds=1)), make_metadata())
            )
        case "rejected":
            world.balancer.failure = BackendRejected("amount too large", key="k")
        case "nobackend":
            world.balancer.failure = NoHealthyBackend("all candidates failed")
        case "unavailable":
            world.balancer.failure = BackendUnavailable("hung", key="k")
        case "storedown":
            world.offers.failure = StoreUnavailable("connection refused")
        case "ledgerdown":
            world.ledger.record_failure = StoreUnavailable("disk full")
        case "allowlist":
            world.cfg = replace(world.cfg, allowed_hosts=("pay.example.com",))
        case "unhealthy":
            world.balancer.healthy = set()
        case "bug":
            world.balancer.failure = RuntimeError("secret internal detail")


@pytest.mark.allow_error_logs
@pytest.mark.parametrize(
    ("setup", "method", "path", "headers", "status", "reason"),
    ERROR_ROWS,
    ids=[f"{r[0] or 'plain'}-{r[1]}-{r[2][-30:]}-{r[4]}" for r in ERROR_ROWS],
)
async def test_every_error_is_lud_json_with_cors(
    world: World,
    setup: str,
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
    reason: str,
) -> None:
    _arrange(world, setup)
    response = await world.get(path, method=method, headers={**HEADERS, **headers})
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store, no-cache, must-revalidate"
    body = await body_json(response)
    assert set(body) == {"status", "reason"} and body["status"] == "ERROR"
    assert reason in body["reason"]
    assert "secret" not in body["reason"] and "hung" not in body["reason"]


@pytest.mark.allow_error_logs
async def test_unexpected_errors_are_logged_with_traceback(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.balancer.failure = RuntimeError("boom")
    with caplog.at_level(logging.ERROR, logger="switchgeard.lnurl"):
        response = await world.get(OFFER + "/invoice?amount=1000")
    assert response.status_code == 500
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info is not None and "boom" in str(record.exc_info[1])


async def test_empty_allow_list_is_logged_once_at_startup(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    app = world.app()
    assert "allowed_hosts is empty" in caplog.text
    caplog.clear()
    client = app.test_client()
    for _ in range(3):
        await client.get(OFFER, headers=HEADERS)
    assert "allowed_hosts" not in caplog.text
