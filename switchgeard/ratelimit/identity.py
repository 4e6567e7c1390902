"""Who is the client? The TCP peer, unless that peer is one of our own proxies.

Only when the peer is a trusted proxy is the configured header (``x-forwarded-for`` or
``forwarded``, never both) read, from the right: each proxy appends the address it saw, so
the rightmost address that is not a trusted proxy is the client. Anything a client writes
further left is ignored. A hop that does not parse (``unknown``, ``_hidden``, garbage) stops
the walk and the last trusted hop is used instead, so a broken chain limits the proxy, not
nobody. A Unix-socket peer is trusted only when ``trusted_proxies`` lists "unix".
IPv4-mapped IPv6 becomes IPv4; IPv6 clients are grouped by a prefix (default /64).

Every request runs this, so the resolver works on the address text: trusted proxies are
remembered by their text in a bounded table, and any other canonical IPv4 text is checked
with one ``inet_pton`` and integer masks, without an ``ipaddress`` object (a Client builds
its ``address`` only when something asks for it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from socket import AF_INET, inet_pton
from typing import Any, Final

from switchgeard.errors import ConfigError

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

UNIX_KEY = "unix"
"""The limit key of an untrusted Unix-socket peer (all such requests share it)."""

_LAZY: Final[Any] = object()


class Client:
    """A resolved client: its address (None for an untrusted Unix-socket peer) and limit key.

    Immutable by convention. ``address`` of a client built from a canonical IPv4 text is
    parsed on first use (the limiter needs it only for exempt and override ranges).
    """

    __slots__ = ("_address", "key")

    def __init__(self, address: Address | None, key: str) -> None:
        self._address = address
        self.key = key

    @classmethod
    def of_ipv4_text(cls, text: str) -> Client:
        """The client of a canonical dotted-quad IPv4 text (its own key)."""
        client = cls(None, text)
        client._address = _LAZY
        return client

    @property
    def address(self) -> Address | None:
        if self._address is _LAZY:
            self._address = IPv4Address(self.key)
        address: Address | None = self._address
        return address

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Client):
            return NotImplemented
        return self.key == other.key and self.address == other.address

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Client({self.address!r}, {self.key!r})"

    def __str__(self) -> str:
        address = self.address
        return self.key if address is None else str(address)


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


_PROXY_MEMO_SIZE = 1024
"""Trusted proxy addresses remembered by their text (they repeat on every request)."""

_Known = tuple[bool, Client] | None
"""What a hop text is: (trusted proxy?, its client), or None when it is not an address."""


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
        self._trusted_v4 = tuple(
            (int(net.network_address), int(net.netmask))
            for net in self._trusted
            if isinstance(net, IPv4Network)
        )
        self._header = header.encode("ascii")
        self._trust_unix = UNIX_KEY in trusted_proxies
        self._prefix = ipv6_prefix
        self._proxies: dict[str, Client] = {}

    def resolve(self, scope: Any) -> Client:
        """The client of one HTTP request scope."""
        peer = scope.get("client")
        last: Client | None = None
        if peer is None:
            if not self._trust_unix:
                return Client(None, UNIX_KEY)
        else:
            text = str(peer[0])
            known = self._known(text)
            if known is None:
                return Client(None, text)
            trusted, last = known
            if not trusted:
                return last
        headers = scope.get("headers", ())
        for hop in reversed(self._hops(headers)):
            known = self._known(hop.strip())
            if known is None:
                break
            trusted, client = known
            if not trusted:
                return client
            last = client
        return Client(None, UNIX_KEY) if last is None else last

    def trusts(self, peer: str | None) -> bool:
        """Whether ``peer`` (an address's text, or None/'' for a Unix socket) is a trusted
        proxy; answers for proxies are remembered, as ``resolve`` does."""
        if not peer:
            return self._trust_unix
        known = self._known(peer)
        return known is not None and known[0]

    def _known(self, text: str) -> _Known:
        proxy = self._proxies.get(text)
        if proxy is not None:
            return True, proxy
        try:  # a canonical dotted quad (inet_pton refuses leading zeros and short forms)
            packed = inet_pton(AF_INET, text)
        except OSError:
            return self._known_address(text)
        value = int.from_bytes(packed, "big")
        for net, mask in self._trusted_v4:
            if value & mask == net:
                return True, self._remember_proxy(text, Client.of_ipv4_text(text))
        return False, Client.of_ipv4_text(text)

    def _known_address(self, text: str) -> _Known:
        """The general case: IPv6, IPv4-mapped, ports, brackets, quotes, or not an address."""
        address = parse_address(text)
        if address is None:
            return None
        client = self.client_of(address)
        if contains(self._trusted, address):
            return True, self._remember_proxy(text, client)
        return False, client

    def _remember_proxy(self, text: str, client: Client) -> Client:
        # Only proxies are remembered: clients are new more often than not, and a table of
        # them would only make the garbage collector's work grow.
        if len(self._proxies) >= _PROXY_MEMO_SIZE:
            self._proxies.clear()
        self._proxies[text] = client
        return client

    def client_of(self, address: Address) -> Client:
        """The Client for a known address: IPv6 keyed by its prefix, IPv4 by itself."""
        if isinstance(address, IPv6Address):
            if address.ipv4_mapped is not None:
                return self.client_of(address.ipv4_mapped)
            net = IPv6Network((address, self._prefix), strict=False)
            return Client(address, str(net))
        return Client(address, str(address))

    def _hops(self, headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
        wanted = self._header
        values = [
            value.decode("latin-1")
            for name, value in headers
            if name == wanted or name.lower() == wanted
        ]
        if not values:
            return []
        entries = (values[0] if len(values) == 1 else ",".join(values)).split(",")
        if wanted == b"forwarded":
            return [_forwarded_for(entry) for entry in entries]
        return entries
