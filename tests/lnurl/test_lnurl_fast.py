"""The offer fast path answers exactly as the Quart routes: same status, headers, body.

Each row sends one raw ASGI request twice: through the app as served (the fast path in
front of Quart) and through Quart's own ASGI entry (the route, hooks and error handlers),
and compares every message byte for byte. A hook on the Quart app records which requests
reached Quart, so rows also check who answered.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
import trio
from lnurl_fakes import (
    NOW,
    OFFER_ID,
    FakeBalancer,
    FakeLedger,
    FakeOffers,
    make_metadata,
    make_offer,
)
from quart import request
from quart_trio import QuartTrio

from switchgeard.config.model import LnurlConfig
from switchgeard.errors import BackendRejected, NoHealthyBackend, StoreError, StoreUnavailable
from switchgeard.lnurl import LedgerVerifier, LnurlDeps, create_lnurl_app

OFFER = f"/offers/default/{OFFER_ID}"
HOST = [(b"host", b"127.0.0.1:8080")]
PROXY = ("10.0.0.0/8",)


def build(changes: dict[str, Any], cfg: LnurlConfig, failure: Exception | None) -> World:
    """A fresh app: each world's balancer issues the same invoice for its first callback."""
    offer_changes = {k: v for k, v in changes.items() if k != "consistent_key"}
    offers = FakeOffers((replace(make_offer(), **offer_changes), make_metadata()))
    ledger = FakeLedger()
    balancer = FakeBalancer(ledger, consistent_key=changes.get("consistent_key", "comment"))
    if isinstance(failure, StoreError):
        offers.failure = failure
    else:
        balancer.failure = failure
    deps = LnurlDeps(
        offers=offers,
        invoices=balancer,
        verifier=LedgerVerifier(ledger, ledger, clock=lambda: NOW),
        clock=lambda: NOW,
    )
    app = create_lnurl_app(deps, cfg)
    reached: list[str] = []

    async def record() -> None:
        reached.append(request.path)

    app.before_request_funcs.setdefault(None, []).insert(0, record)  # before the CORS preflight
    return World(app, reached, balancer)


@dataclass
class World:
    app: QuartTrio
    reached: list[str]
    """Paths that reached the Quart app's hooks."""
    balancer: FakeBalancer


async def call(entry: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    """One request through an ASGI callable; the start message and the joined body."""
    start: dict[str, Any] = {}
    body = b""

    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if requests:
            return requests.pop()
        await trio.sleep_forever()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal body, start
        if message["type"] == "http.response.start":
            start = message
        else:
            body += message.get("body", b"")

    with trio.fail_after(5):
        await entry(scope, receive, send)
    return [start, {"body": body}]


def scope(path: str, *, method: str = "GET", headers: Any = None, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": HOST if headers is None else headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
        "extensions": {},
    }
    return {**base, **extra}


EXPIRING = make_offer(expires=NOW + timedelta(hours=2))
FORWARDED = [
    (b"host", b"10.1.2.3:8080"),
    (b"x-forwarded-proto", b"https"),
    (b"x-forwarded-host", b"a.example, pay.example.com"),
]

# (name, scope, config, offer changes, store failure, served by the fast path)
ROWS: list[tuple[str, dict[str, Any], LnurlConfig, dict[str, Any], Exception | None, bool]] = [
    ("plain", scope(OFFER), LnurlConfig(), {}, None, True),
    ("query ignored", scope(OFFER, query_string=b"x=1&amount=2"), LnurlConfig(), {}, None, True),
    (
        "expiring offer cache headers",
        scope(OFFER),
        LnurlConfig(),
        {"expires": EXPIRING.expires},
        None,
        True,
    ),
    ("no comments", scope(OFFER), LnurlConfig(), {"comment_allowed": 0}, None, True),
    ("https scheme", scope(OFFER, scheme="https"), LnurlConfig(), {}, None, True),
    ("ipv6 host", scope(OFFER, headers=[(b"host", b"[::1]:8080")]), LnurlConfig(), {}, None, True),
    (
        "trusted proxy",
        scope(OFFER, headers=FORWARDED, client=("10.0.0.7", 1)),
        LnurlConfig(trusted_proxies=PROXY, allowed_hosts=("pay.example.com",)),
        {},
        None,
        True,
    ),
    (
        "untrusted proxy",
        scope(OFFER, headers=FORWARDED),
        LnurlConfig(trusted_proxies=PROXY),
        {},
        None,
        True,
    ),
    (
        "repeated host headers",
        scope(OFFER, headers=[(b"host", b"a.example"), (b"host", b"b.example")]),
        LnurlConfig(),
        {},
        None,
        False,
    ),
    ("no host", scope(OFFER, headers=[]), LnurlConfig(), {}, None, False),
    (
        "foreign host",
        scope(OFFER),
        LnurlConfig(allowed_hosts=("pay.example.com",)),
        {},
        None,
        False,
    ),
    (
        "host under a wildcard",
        scope(OFFER, headers=[(b"host", b"pay.example.com")]),
        LnurlConfig(allowed_hosts=("*.example.com",)),
        {},
        None,
        True,
    ),
    (
        "host two labels under a wildcard",
        scope(OFFER, headers=[(b"host", b"a.pay.example.com")]),
        LnurlConfig(allowed_hosts=("*.example.com",)),
        {},
        None,
        False,
    ),
    (
        "unknown offer",
        scope(f"/offers/default/{OFFER_ID.hex[:8]}-0000-4000-8000-000000000000"),
        LnurlConfig(),
        {},
        None,
        False,
    ),
    ("not a uuid", scope("/offers/default/nope"), LnurlConfig(), {}, None, False),
    ("other partition", scope(f"/offers/other/{OFFER_ID}"), LnurlConfig(), {}, None, False),
    ("expired", scope(OFFER), LnurlConfig(), {"expires": NOW - timedelta(seconds=1)}, None, False),
    (
        "not yet valid",
        scope(OFFER),
        LnurlConfig(),
        {"timestamp": NOW + timedelta(seconds=1)},
        None,
        False,
    ),
    ("store down", scope(OFFER), LnurlConfig(), {}, StoreUnavailable("refused"), False),
    ("head", scope(OFFER, method="HEAD"), LnurlConfig(), {}, None, False),
    ("options", scope(OFFER, method="OPTIONS"), LnurlConfig(), {}, None, False),
    ("trailing slash", scope(OFFER + "/"), LnurlConfig(), {}, None, False),
    ("empty partition", scope(f"/offers//{OFFER_ID}"), LnurlConfig(), {}, None, False),
    ("bech32", scope(OFFER + "/bech32"), LnurlConfig(), {}, None, False),
    *[
        (
            f"callback {query!r}",
            scope(OFFER + "/invoice", query_string=query),
            LnurlConfig(),
            {},
            None,
            fast,
        )
        for query, fast in [
            (b"amount=5000", True),
            (b"amount=5000&comment=hi%20there+%E2%98%95", True),
            (b"comment=%ff&amount=5000&x", True),
            (b"amount=5000&amount=6000", False),
            (b"amount=1", False),
            (b"amount=-5", False),
            (b"amount=5e3", False),
            (b"", False),
            (b"amount=5000&comment=12345678901", False),
        ]
    ],
    (
        "callback keyed by payer",
        scope(
            OFFER + "/invoice",
            query_string=b"amount=5000",
            client=("10.0.0.7", 1),
            headers=[*HOST, (b"x-forwarded-for", b"203.0.113.9")],
        ),
        LnurlConfig(trusted_proxies=PROXY),
        {"consistent_key": "client_ip"},
        None,
        True,
    ),
    (
        "callback, no node",
        scope(OFFER + "/invoice", query_string=b"amount=5000"),
        LnurlConfig(),
        {},
        NoHealthyBackend("all failed"),
        True,
    ),
    (
        "callback, refused",
        scope(OFFER + "/invoice", query_string=b"amount=5000"),
        LnurlConfig(),
        {},
        BackendRejected("too large", key="k"),
        True,
    ),
    (
        "callback, unknown offer",
        scope(
            f"/offers/default/{OFFER_ID.hex[:8]}-0000-4000-8000-000000000000/invoice",
            query_string=b"amount=5000",
        ),
        LnurlConfig(),
        {},
        None,
        False,
    ),
    (
        "callback, store down",
        scope(OFFER + "/invoice", query_string=b"amount=5000"),
        LnurlConfig(),
        {},
        StoreUnavailable("refused"),
        False,
    ),
    (
        "callback, foreign host",
        scope(OFFER + "/invoice", query_string=b"amount=5000"),
        LnurlConfig(allowed_hosts=("pay.example.com",)),
        {},
        None,
        False,
    ),
    (
        "callback trailing slash",
        scope(OFFER + "/invoice/", query_string=b"amount=5000"),
        LnurlConfig(),
        {},
        None,
        False,
    ),
]


@pytest.mark.parametrize(
    ("name", "request_scope", "cfg", "changes", "failure", "fast"),
    # a store failure is logged at error level by the route, once per answer
    [pytest.param(*row, marks=pytest.mark.allow_error_logs) if row[4] else row for row in ROWS],
)
async def test_fast_path_answers_like_the_quart_route(
    name: str,
    request_scope: dict[str, Any],
    cfg: LnurlConfig,
    changes: dict[str, Any],
    failure: Exception | None,
    fast: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fast_world, quart_world = build(changes, cfg, failure), build(changes, cfg, failure)
    served = await call(fast_world.app, dict(request_scope))
    quart_entry = partial(QuartTrio.asgi_app, quart_world.app)
    routed = await call(quart_entry, dict(request_scope))
    assert served == routed, name
    assert fast_world.balancer.calls == quart_world.balancer.calls
    assert len(fast_world.balancer.calls) <= 1, "never a second invoice for one callback"
    assert quart_world.reached == [request_scope["path"]]
    assert (fast_world.reached == []) is fast, f"{name}: fast path {'skipped' if fast else 'taken'}"
    if fast and failure is None:
        assert served[0]["status"] == 200
    if isinstance(failure, StoreError):
        assert caplog.text.count("store failed while serving a request") == 2
