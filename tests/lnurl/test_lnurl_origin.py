"""Scheme and host resolution from forwarding headers, only through trusted proxies."""

from __future__ import annotations

import pytest

from switchgeard.errors import ConfigError, RequestError
from switchgeard.lnurl.origin import Origin, ProxyPolicy, client_address, resolve_origin

TRUSTING = ProxyPolicy(["127.0.0.1", "10.0.0.0/8", "::1", "unix"], [])


@pytest.mark.parametrize(
    ("headers", "peer", "tls", "expected"),
    [
        ({"host": "Pay.Example.com"}, "1.2.3.4", False, Origin("http", "pay.example.com")),
        ({"host": "pay.example.com:443"}, "1.2.3.4", True, Origin("https", "pay.example.com")),
        ({"host": "pay.example.com:80"}, "1.2.3.4", False, Origin("http", "pay.example.com")),
        ({"host": "127.0.0.1:8080"}, None, False, Origin("http", "127.0.0.1:8080")),
        ({"host": "[::1]:8080"}, "::1", False, Origin("http", "[::1]:8080")),
        (
            {"host": "in", "forwarded": 'proto=https;host="a.example:8443", for=x;host=b'},
            "127.0.0.1",
            False,
            Origin("https", "a.example:8443"),
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
            {"host": "in", "x-forwarded-host": "b.example, c", "x-forwarded-proto": "https"},
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


def test_trusted_proxies_must_be_addresses() -> None:
    with pytest.raises(ConfigError, match=r"lnurl\.trusted_proxies"):
        ProxyPolicy(["proxy.local"], [])


@pytest.mark.parametrize(
    ("headers", "peer", "expected"),
    [
        ({"forwarded": 'for="[2001:db8::1]:4711"'}, "127.0.0.1", "2001:db8::1"),
        ({"forwarded": "for=203.0.113.5:80"}, "127.0.0.1", "203.0.113.5"),
        ({"x-forwarded-for": "203.0.113.6, 10.0.0.1"}, "10.0.0.1", "203.0.113.6"),
        ({"x-forwarded-for": "203.0.113.6"}, "192.0.2.7", "192.0.2.7"),
        ({}, None, "unix"),
    ],
)
def test_client_address(headers: dict[str, str], peer: str | None, expected: str) -> None:
    assert client_address(headers, peer, TRUSTING) == expected


def test_ipv4_proxies_on_a_dual_stack_listener_are_trusted() -> None:
    # A "[::]:port" listener sees IPv4 peers as IPv4-mapped IPv6 addresses.
    headers = {"host": "in", "x-forwarded-host": "pay.example", "x-forwarded-proto": "https"}
    origin = resolve_origin(headers, "::ffff:10.1.2.3", TRUSTING, tls=False)
    assert origin == Origin("https", "pay.example")
    forwarded = {"x-forwarded-for": "203.0.113.6"}
    assert client_address(forwarded, "::ffff:127.0.0.1", TRUSTING) == "203.0.113.6"
    assert not TRUSTING.trusts("::ffff:192.0.2.1")
