"""Who is the client? The TCP peer, unless that peer is one of our own proxies.

Only when the peer is a trusted proxy is the configured header (``x-forwarded-for`` or
``forwarded``, never both) read, from the right: each proxy appends the address it saw, so
the rightmost address that is not a trusted proxy is the client. Anything a client writes
further left is ignored. A hop that does not parse (``unknown``, ``_hidden``, garbage) stops
the walk and the last trusted hop is used instead, so a broken chain limits the proxy, not
nobody. A Unix-socket peer is trusted only when ``trusted_proxies`` lists "unix".
IPv4-mapped IPv6 becomes IPv4; IPv6 clients are grouped by a prefix (default /64).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from socket import AF_INET, inet_pton
from typing import Any

from switchgeard.errors import ConfigError

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

UNIX_KEY = "unix"
"""The limit key of an untrusted Unix-socket peer (all such requests share it)."""


@dataclass(frozen=True, slots=True)
class Client:
    """A resolved client: its address (None for an untrusted Unix-socket peer) and limit key."""

    address: Address | None
    key: str

    def __str__(self) -> str:
        return self.key if self.address is None else str(self.address)


def parse_networks(values: Sequence[str], *, key: str) -> tuple[Network, ...]:
    """Parse CIDRs ("10.0.0.0/8", "2001:db8::/32", or a bare address); errors name ``key[i]``.

    Host bits are masked ("10.1.2.3/8" means 10.0.0.0/8), as ``[lnurl] trusted_proxies`` does.
    """
    networks: list[Network] = []
    for index, text in enumerate(values):
        try:
            networks.append(ip_network(text.strip(), strict=False))
        except ValueError as exc:
            raise ConfigError(
                f"not a CIDR network: {text!r} ({exc})", key=f"{key}[{index}]"
            ) from exc
    return tuple(networks)


def contains(networks: Iterable[Network], address: Address) -> bool:
    """True when ``address`` lies in one of ``networks``."""
    return bool(networks) and any(
        address in net for net in networks if net.version == address.version
    )


def parse_address(text: str) -> Address | None:
    """Parse one hop: "1.2.3.4", "1.2.3.4:80", "[2001:db8::1]:443", '"[::1]"'; else None."""
    try:  # the common case, four times faster than ip_address (same strictness)
        return IPv4Address(inet_pton(AF_INET, text))
    except OSError:
        pass
    try:
        address = ip_address(text)
    except ValueError:
        return _parse_hop(text)
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _parse_hop(text: str) -> Address | None:
    text = text.strip().strip('"').strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _forwarded_for(element: str) -> str:
    for pair in element.split(";"):
        name, _, value = pair.partition("=")
        if name.strip().lower() == "for":
            return value
    return ""


_TRUST_MEMO_SIZE = 1024


class ClientResolver:
    """Resolve an ASGI scope to a :class:`Client` (see the module docstring for the rules)."""

    def __init__(
        self,
        *,
        trusted_proxies: Sequence[str] = (),
        header: str = "x-forwarded-for",
        ipv6_prefix: int = 64,
        trusted_key: str = "lnurl.trusted_proxies",
    ) -> None:
        """``trusted_proxies``: addresses or networks, and "unix" to trust Unix-socket peers."""
        if header not in ("x-forwarded-for", "forwarded"):
            raise ConfigError(f"unknown client header {header!r}", key="ratelimit.client_header")
        if not 16 <= ipv6_prefix <= 128:
            raise ConfigError("must be between 16 and 128", key="ratelimit.ipv6_prefix")
        networks = [entry for entry in trusted_proxies if entry != UNIX_KEY]
        self._trusted = parse_networks(networks, key=trusted_key)
        self._header = header.encode("ascii")
        self._trust_unix = UNIX_KEY in trusted_proxies
        self._prefix = ipv6_prefix
        self._trust_memo: dict[Address, bool] = {}
        """Trust decisions of recent hops: proxies repeat on every request (bounded)."""

    def resolve(self, scope: Mapping[str, Any]) -> Client:
        """The client of one HTTP request scope."""
        peer = scope.get("client")
        last: Address | None = None
        if peer is None:
            if not self._trust_unix:
                return Client(None, UNIX_KEY)
        else:
            text = str(peer[0])
            address = parse_address(text)
            if address is None:
                return Client(None, text)
            if not self._trusts(address):
                return self._client_of_text(address, text)
            last = address
        for hop in reversed(self._hops(scope.get("headers", ()))):
            hop = hop.strip()
            address = parse_address(hop)
            if address is None:
                break
            if not self._trusts(address):
                return self._client_of_text(address, hop)
            last = address
        return Client(None, UNIX_KEY) if last is None else self.client_of(last)

    def _trusts(self, address: Address) -> bool:
        trusted = self._trust_memo.get(address)
        if trusted is None:
            trusted = contains(self._trusted, address)
            if len(self._trust_memo) >= _TRUST_MEMO_SIZE:
                self._trust_memo.clear()
            self._trust_memo[address] = trusted
        return trusted

    def _client_of_text(self, address: Address, text: str) -> Client:
        if isinstance(address, IPv4Address) and text.replace(".", "").isdigit():
            return Client(address, text)  # already canonical: leading zeros do not parse
        return self.client_of(address)

    def client_of(self, address: Address) -> Client:
        """The Client for a known address: IPv6 keyed by its prefix, IPv4 by itself."""
        if isinstance(address, IPv6Address):
            if address.ipv4_mapped is not None:
                return self.client_of(address.ipv4_mapped)
            net = IPv6Network((address, self._prefix), strict=False)
            return Client(address, str(net))
        return Client(address, str(address))

    def _hops(self, headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
        values = [
            value.decode("latin-1") for name, value in headers if name.lower() == self._header
        ]
        entries = ",".join(values).split(",") if values else []
        if self._header == b"forwarded":
            return [_forwarded_for(entry) for entry in entries]
        return entries
