"""Client identity: spoofing resistance, trusted-proxy walks, IPv6 grouping, Unix sockets."""

from __future__ import annotations

from ipaddress import ip_address

import pytest
from ratelimit_helpers import http_scope

from switchgeard.errors import ConfigError
from switchgeard.ratelimit.identity import ClientResolver, parse_address

PROXY = ("10.0.0.2", 40000)


def _key(
    resolver: ClientResolver, client: tuple[str, int] | None, *headers: tuple[str, str]
) -> str:
    raw = [(name.encode(), value.encode()) for name, value in headers]
    return resolver.resolve(http_scope(client=client, headers=raw)).key


def test_untrusted_peer_cannot_spoof_with_headers() -> None:
    resolver = ClientResolver(trusted_proxies=["10.0.0.0/8"])
    peer = ("198.51.100.9", 1234)
    assert _key(resolver, peer, ("x-forwarded-for", "1.2.3.4")) == "198.51.100.9"
    forwarded = ClientResolver(trusted_proxies=["10.0.0.0/8"], header="forwarded")
    assert _key(forwarded, peer, ("forwarded", "for=1.2.3.4")) == "198.51.100.9"


def test_trusted_proxy_uses_rightmost_untrusted_hop() -> None:
    resolver = ClientResolver(trusted_proxies=["10.0.0.0/8"])
    # the client wrote "6.6.6.6" itself; our proxies appended the rest
    headers = ("x-forwarded-for", "6.6.6.6, 203.0.113.5, 10.1.1.1")
    assert _key(resolver, PROXY, headers) == "203.0.113.5"


def test_several_header_lines_are_one_list() -> None:
    resolver = ClientResolver(trusted_proxies=["10.0.0.0/8"])
    first = ("X-Forwarded-For", "6.6.6.6")
    second = ("x-forwarded-for", "203.0.113.5")
    assert _key(resolver, PROXY, first, second) == "203.0.113.5"


def test_only_the_configured_header_counts() -> None:
    resolver = ClientResolver(trusted_proxies=["10.0.0.0/8"], header="forwarded")
    headers = ("x-forwarded-for", "203.0.113.5")
    assert _key(resolver, PROXY, headers) == "10.0.0.2"


def test_forwarded_header_with_ports_quotes_and_parameters() -> None:
    resolver = ClientResolver(trusted_proxies=["10.0.0.0/8"], header="forwarded")
    value = 'for=6.6.6.6, for="[2001:db8:cafe:1::17]:4711";proto=https, for=10.0.0.9:80'
    assert _key(resolver, PROXY, ("forwarded", value)) == "2001:db8:cafe:1::/64"


def test_unparseable_hop_falls_back_to_last_trusted_hop() -> None:
    resolver = ClientResolver(trusted_proxies=["10.0.0.0/8"])
    headers = ("x-forwarded-for", "203.0.113.5, unknown, 10.3.3.3")
    assert _key(resolver, PROXY, headers) == "10.3.3.3"
    obfuscated = ClientResolver(trusted_proxies=["10.0.0.0/8"], header="forwarded")
    assert _key(obfuscated, PROXY, ("forwarded", "for=_hidden")) == "10.0.0.2"


def test_only_trusted_hops_resolve_to_the_nearest_client_side_proxy() -> None:
    resolver = ClientResolver(trusted_proxies=["10.0.0.0/8"])
    assert _key(resolver, PROXY, ("x-forwarded-for", "10.9.9.9, 10.8.8.8")) == "10.9.9.9"
    assert _key(resolver, PROXY) == "10.0.0.2"


def test_ipv6_grouped_by_prefix() -> None:
    resolver = ClientResolver()
    a = _key(resolver, ("2001:db8:1:2:aaaa::1", 1))
    b = _key(resolver, ("2001:db8:1:2:bbbb::2", 1))
    c = _key(resolver, ("2001:db8:1:3::1", 1))
    assert a == b == "2001:db8:1:2::/64"
    assert c != a
    wide = ClientResolver(ipv6_prefix=48)
    assert _key(wide, ("2001:db8:1:3::1", 1)) == "2001:db8:1::/48"


def test_ipv4_mapped_is_normalised() -> None:
    resolver = ClientResolver(trusted_proxies=["10.0.0.0/8"])
    client = resolver.resolve(http_scope(client=("::ffff:203.0.113.5", 1)))
    assert client.key == "203.0.113.5"
    assert client.address == ip_address("203.0.113.5")
    assert _key(resolver, ("::ffff:10.0.0.2", 1), ("x-forwarded-for", "198.51.100.1")) == (
        "198.51.100.1"
    )


def test_unix_socket_peer_trusted_only_when_configured() -> None:
    headers = ("x-forwarded-for", "203.0.113.5")
    assert _key(ClientResolver(), None, headers) == "unix"
    trusting = ClientResolver(trusted_proxies=["unix"])
    assert _key(trusting, None, headers) == "203.0.113.5"
    assert _key(trusting, None) == "unix"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.3.4", "1.2.3.4"),
        (" 1.2.3.4:8080 ", "1.2.3.4"),
        ('"[2001:db8::1]:443"', "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("::ffff:1.2.3.4", "1.2.3.4"),
        ("unknown", None),
        ("_obf", None),
        ("", None),
    ],
)
def test_parse_address(text: str, expected: str | None) -> None:
    parsed = parse_address(text)
    assert (None if parsed is None else str(parsed)) == expected


def test_bad_trusted_proxy_names_lnurl_key() -> None:
    with pytest.raises(ConfigError) as info:
        ClientResolver(trusted_proxies=["10.0.0.0/8", "proxy.example"])
    assert info.value.key == "lnurl.trusted_proxies[1]"
