"""Client identity: spoofing resistance, trusted-proxy walks, IPv6 grouping, Unix sockets."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ratelimit_helpers import http_scope

from switchgeard.errors import ConfigError
from switchgeard.ratelimit.identity import Client, ClientResolver, parse_address

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


def _reference_key(trusted: list[str], peer: str, hops: list[str]) -> str:
    """The rule written out plainly, with ``ipaddress`` objects only (no fast paths)."""
    networks = [ip_network(net) for net in trusted]

    def is_trusted(address: IPv4Address | IPv6Address) -> bool:
        return any(address in net for net in networks if net.version == address.version)

    def key(address: IPv4Address | IPv6Address) -> str:
        if isinstance(address, IPv6Address):
            return str(ip_network((address, 64), strict=False))
        return str(address)

    address = parse_address(peer)
    if address is None:
        return peer
    last = address
    if not is_trusted(address):
        return key(address)
    for hop in reversed(hops):
        parsed = parse_address(hop.strip())
        if parsed is None:
            break
        if not is_trusted(parsed):
            return key(parsed)
        last = parsed
    return key(last)


_ADDRESSES = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.sampled_from(["10.0.0.1", "10.0.0.2", "10.9.9.9", "192.0.2.1", "::1", "2001:db8::5"]),
    st.ip_addresses(v=6).map(str),
    st.sampled_from(["unknown", "010.0.0.1", "1.2.3", "::ffff:10.0.0.7", "[2001:db8::1]:80"]),
)


@given(
    peer=_ADDRESSES,
    hops=st.lists(_ADDRESSES, max_size=4),
    trusted=st.lists(st.sampled_from(["10.0.0.0/8", "127.0.0.1/32", "::1/128", "2001:db8::/32"])),
)
def test_resolver_matches_the_plain_rule(peer: str, hops: list[str], trusted: list[str]) -> None:
    resolver = ClientResolver(trusted_proxies=trusted)
    scope = http_scope(client=(peer, 1), headers=[(b"x-forwarded-for", ", ".join(hops).encode())])
    for _ in range(2):  # the second time from what the resolver remembered
        client = resolver.resolve(scope)
        assert client.key == _reference_key(trusted, peer, hops)
        if client.address is not None:
            assert client == resolver.client_of(client.address)


def test_lazy_ipv4_client_is_an_ordinary_client() -> None:
    client = Client.of_ipv4_text("198.51.100.7")
    assert client == Client(IPv4Address("198.51.100.7"), "198.51.100.7")
    assert client.address == IPv4Address("198.51.100.7")
    assert str(client) == "198.51.100.7"
    assert hash(client) == hash(Client(IPv4Address("198.51.100.7"), "198.51.100.7"))


def test_remembered_proxies_stay_bounded() -> None:
    resolver = ClientResolver(trusted_proxies=["10.0.0.0/8"])
    for index in range(3000):
        proxy = f"10.{index >> 8 & 255}.{index & 255}.1"
        assert _key(resolver, (proxy, 1), ("x-forwarded-for", "203.0.113.5")) == "203.0.113.5"
    assert 0 < len(resolver._proxies) <= 1024
