"""Scheme and host resolution from forwarding headers, only through trusted proxies."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

import pytest

from switchgeard.errors import ConfigError, RequestError
from switchgeard.lnurl.origin import Origin, ProxyPolicy, client_address, resolve_origin
from switchgeard.ratelimit import Client

TRUSTING = ProxyPolicy(["127.0.0.1", "10.0.0.0/8", "::1", "unix"], [])


@pytest.mark.parametrize(
    ("headers", "peer", "tls", "expected"),
    [
        ({"host": "Pay.Example.com"}, "1.2.3.4", False, Origin("http", "pay.example.com")),
        ({"host": "pay.example.com:443"}, "1.2.3.4", True, Origin("https", "pay.example.com")),
        ({"host": "pay.example.com:80"}, "1.2.3.4", False, Origin("http", "pay.example.com")),
        ({"host": "127.0.0.1:8080"}, None, False, Origin("http", "127.0.0.1:8080")),
        ({"host": "[::1]:8080"}, "::1", False, Origin("http", "[::1]:8080")),
        (  # the last element is the one the nearest (trusted) proxy added
            {"host": "in", "forwarded": 'proto=http;host=evil, for=x;proto=https;host="a:8443"'},
            "127.0.0.1",
            False,
            Origin("https", "a:8443"),
        ),
        (  # a client-written element is not used even when the proxy's lacks the key
            {"host": "in", "forwarded": "proto=https;host=evil, for=1.2.3.4"},
            "127.0.0.1",
            False,
            Origin("http", "in"),
        ),
        (  # so is a client-written first value of a header the proxy appended to
            {
                "host": "in",
                "x-forwarded-host": "evil, b.example",
                "x-forwarded-proto": "http, https",
            },
            "127.0.0.1",
            False,
            Origin("https", "b.example"),
        ),
        (  # the original's "proto after the last =" quirk is fixed: pairs are parsed
            {"host": "in", "forwarded": "For=1.2.3.4; Proto=HTTPS; Host=a.example"},
            "10.1.1.1",
            False,
            Origin("https", "a.example"),
        ),
        (
            {"host": "in", "forwarded": "for=1.2.3.4", "x-forwarded-proto": "https"},
            "10.1.1.1",
            False,
            Origin("https", "in"),
        ),
        (
            {"host": "in", "x-forwarded-host": "b.example", "x-forwarded-proto": "https"},
            None,
            False,
            Origin("https", "b.example"),
        ),
        (  # not a trusted peer: forwarding headers are ignored
            {"host": "in", "forwarded": "proto=https;host=evil", "x-forwarded-host": "evil"},
            "192.0.2.1",
            False,
            Origin("http", "in"),
        ),
        (  # unknown schemes fall back to the listener's
            {"host": "in", "x-forwarded-proto": "wss"},
            "127.0.0.1",
            True,
            Origin("https", "in"),
        ),
    ],
)
def test_resolution(headers: dict[str, str], peer: str | None, tls: bool, expected: Origin) -> None:
    assert resolve_origin(headers, peer, TRUSTING, tls=tls) == expected


@pytest.mark.parametrize(
    "host", ["", "a b", "a/b", "a@b", "a.example:99999", "a.example:", "-a", "a" * 300, "é.example"]
)
def test_invalid_hosts_are_400(host: str) -> None:
    with pytest.raises(RequestError) as caught:
        resolve_origin({"host": host}, "1.2.3.4", TRUSTING, tls=False)
    assert caught.value.status == 400


def test_allow_list_checks_the_domain_without_port() -> None:
    policy = ProxyPolicy([], ["Pay.Example.com", "::1"])
    assert resolve_origin({"host": "pay.example.com:8080"}, "1.1.1.1", policy, tls=False).host == (
        "pay.example.com:8080"
    )
    assert resolve_origin({"host": "[::1]"}, "1.1.1.1", policy, tls=False).host == "[::1]"
    with pytest.raises(RequestError, match="not served here"):
        resolve_origin({"host": "other.example"}, "1.1.1.1", policy, tls=False)


@pytest.mark.parametrize(
    ("host", "served"),
    [
        ("pay.example.com", True),
        ("PAY.Example.com:8443", True),
        ("xn--bcher-kva.example.com", True),
        ("example.com", False),  # the wildcard stands for one label, not for none
        ("a.pay.example.com", False),  # nor for two
        ("payexample.com", False),
        ("pay.example.com.evil", False),
        ("evil-example.com", False),
        ("shop.example.org", True),  # an exact entry next to the wildcard
        ("a.shop.example.org", False),
    ],
)
def test_wildcard_entries_match_exactly_one_label(host: str, served: bool) -> None:
    policy = ProxyPolicy([], ["*.Example.com", "shop.example.org"])
    if served:
        origin = resolve_origin({"host": host}, "1.1.1.1", policy, tls=True)
        assert origin.host == host.lower()
    else:
        with pytest.raises(RequestError, match="not served here") as caught:
            resolve_origin({"host": host}, "1.1.1.1", policy, tls=True)
        assert caught.value.status == 400


@pytest.mark.parametrize("entry", ["*", "a.*.com", "*.com", "pay.example.com:443", ""])
def test_invalid_allowed_hosts_are_config_errors_naming_the_entry(entry: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ProxyPolicy([], ["pay.example.com", entry])
    assert caught.value.key == "lnurl.allowed_hosts[1]"


def test_trusted_proxies_must_be_addresses() -> None:
    with pytest.raises(ConfigError, match=r"lnurl\.trusted_proxies"):
        ProxyPolicy(["proxy.local"], [])


def _scope(headers: dict[str, str], peer: str | None) -> dict[str, Any]:
    encoded = [(k.encode(), v.encode()) for k, v in headers.items()]
    return {"headers": encoded, "client": None if peer is None else (peer, 4711)}


@pytest.mark.parametrize(
    ("headers", "peer", "expected"),
    [
        ({"x-forwarded-for": "203.0.113.6, 10.0.0.1"}, "10.0.0.1", "203.0.113.6"),
        ({"x-forwarded-for": "203.0.113.6"}, "192.0.2.7", "192.0.2.7"),
        ({"x-forwarded-for": "[2001:db8::1]:4711"}, "127.0.0.1", "2001:db8::1"),
        ({"x-forwarded-for": "203.0.113.6"}, None, "203.0.113.6"),
        ({}, None, "unix"),
        ({}, "10.0.0.1", "10.0.0.1"),
    ],
)
def test_client_address(headers: dict[str, str], peer: str | None, expected: str) -> None:
    assert client_address(_scope(headers, peer), TRUSTING) == expected


@pytest.mark.parametrize(
    "header", ["198.51.100.66, 203.0.113.6", "198.51.100.66, 203.0.113.6, 10.0.0.2"]
)
def test_client_address_ignores_what_the_client_wrote_left_of_the_proxies(header: str) -> None:
    # A proxy appends the address it saw; anything further left came from the client.
    scope = _scope({"x-forwarded-for": header}, "10.0.0.1")
    assert client_address(scope, TRUSTING) == "203.0.113.6"


def test_client_address_is_the_rate_limiters_client_when_it_identified_one() -> None:
    # Same answer as the limiter, whose [ratelimit] client_header may be "forwarded".
    scope = _scope({"x-forwarded-for": "203.0.113.6"}, "10.0.0.1")
    scope["switchgeard.client"] = Client(ip_address("192.0.2.44"), "192.0.2.44")
    assert client_address(scope, TRUSTING) == "192.0.2.44"


def test_ipv4_proxies_on_a_dual_stack_listener_are_trusted() -> None:
    # A "[::]:port" listener sees IPv4 peers as IPv4-mapped IPv6 addresses.
    headers = {"host": "in", "x-forwarded-host": "pay.example", "x-forwarded-proto": "https"}
    origin = resolve_origin(headers, "::ffff:10.1.2.3", TRUSTING, tls=False)
    assert origin == Origin("https", "pay.example")
    forwarded = _scope({"x-forwarded-for": "203.0.113.6"}, "::ffff:127.0.0.1")
    assert client_address(forwarded, TRUSTING) == "203.0.113.6"
    assert not TRUSTING.trusts("::ffff:192.0.2.1")


def test_trust_answers_are_remembered_and_stay_the_same() -> None:
    policy = ProxyPolicy(["10.0.0.0/8", "::1"], [])
    peers = ["10.1.2.3", "192.0.2.1", "::ffff:10.9.9.9", "::1", "2001:db8::1", "garbage"]
    first = [policy.trusts(peer) for peer in peers]
    assert first == [True, False, True, True, False, False]
    assert [policy.trusts(peer) for peer in peers] == first  # from the table now
    for index in range(3000):  # a flood of distinct peers keeps the table bounded
        assert not policy.trusts(f"192.0.{index >> 8 & 255}.{index & 255}")
    assert 0 < len(policy.clients._proxies) <= 1024
    assert policy.trusts("10.1.2.3")
