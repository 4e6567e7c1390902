"""Where the wallet reached us: the scheme and host used to build callback and LNURL links.

``Forwarded`` (RFC 7239) wins over ``X-Forwarded-Host``/``X-Forwarded-Proto``, which win
over ``Host``; the forwarding headers count only when the TCP peer is a trusted proxy
(``[lnurl] trusted_proxies``: addresses, networks, or ``unix`` for peers on a Unix socket).
Proxies append, so only the LAST ``Forwarded`` element and the last value of each
``X-Forwarded-*`` header count: those come from the proxy that talks to us; anything to
their left may have been written by the client. The payer's address follows the rate
limiter's rule (the rightmost address that is not a trusted proxy).
The host is validated as ``name[:port]`` so no header can inject text into a URL, and the
domain is checked against ``[lnurl] allowed_hosts`` (empty = any host; ``*.example.com``
stands for one label: ``pay.example.com``, not ``example.com`` nor ``a.pay.example.com``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from switchgeard.config.checks import parse_allowed_host
from switchgeard.errors import ConfigError, RequestError
from switchgeard.ratelimit import Client, ClientResolver
from switchgeard.ratelimit.asgi import CLIENT_SCOPE_KEY

_HOST = re.compile(
    r"(?P<domain>[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?|\[[0-9a-f:.]{2,45}\])(?::(?P<port>[0-9]{1,5}))?"
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_SCHEMES = frozenset({"http", "https"})
UNIX_PEER = "unix"
"""The ``trusted_proxies`` entry that trusts peers connected over a Unix socket."""


@dataclass(frozen=True, slots=True)
class Origin:
    """``scheme://host`` of the request as the wallet saw it; ``host`` keeps a non-default port."""

    scheme: str
    host: str

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host}{path}"


class ProxyPolicy:
    """Which peers may set forwarding headers, and which hosts links may name."""

    def __init__(self, trusted_proxies: Iterable[str], allowed_hosts: Iterable[str]) -> None:
        proxies = tuple(trusted_proxies)
        for entry in proxies:
            if entry != UNIX_PEER:
                _check_proxy(entry)
        self.hosts = AllowedHosts.parse(allowed_hosts)
        self.clients = ClientResolver(trusted_proxies=proxies)
        """Payer addresses behind the trusted proxies (``X-Forwarded-For``, rightmost rule);
        also the one judge of which peers are trusted proxies."""

    def trusts(self, peer: str | None) -> bool:
        """Whether ``peer`` (an IP address, or None/'' for a Unix socket) is a trusted proxy."""
        return self.clients.trusts(peer)

    def allows(self, domain: str) -> bool:
        return self.hosts.allows(domain)


def _check_proxy(entry: str) -> None:
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        raise ConfigError(
            f"{entry!r} is not an IP address, network or 'unix'", key="lnurl.trusted_proxies"
        ) from None


@dataclass(frozen=True, slots=True)
class AllowedHosts:
    """``[lnurl] allowed_hosts``: exact names, and the parents of ``*.parent`` wildcards."""

    names: frozenset[str] = frozenset()
    parents: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowedHosts:
        """The allow-list; ConfigError naming the entry's key if one is invalid."""
        names: set[str] = set()
        parents: set[str] = set()
        for index, entry in enumerate(entries):
            try:
                name, wildcard = parse_allowed_host(entry)
            except ValueError as exc:
                raise ConfigError(str(exc), key=f"lnurl.allowed_hosts[{index}]") from None
            (parents if wildcard else names).add(name)
        return cls(frozenset(names), frozenset(parents))

    def allows(self, domain: str) -> bool:
        """Whether ``domain`` (lower case, no port) is served; an empty list allows any."""
        if not self.names and not self.parents:
            return True
        if domain in self.names:
            return True
        label, dot, parent = domain.partition(".")
        return bool(label and dot) and parent in self.parents


def resolve_origin(
    headers: Mapping[str, str], peer: str | None, policy: ProxyPolicy, *, tls: bool
) -> Origin:
    """The request's origin; raises ``RequestError`` (400) for a missing, bad or foreign host."""
    forwarded: dict[str, str] = {}
    scheme = host = None
    if policy.trusts(peer):
        forwarded = _last_forwarded_element(headers.get("forwarded", ""))
        scheme = forwarded.get("proto") or _last(headers.get("x-forwarded-proto"))
        host = forwarded.get("host") or _last(headers.get("x-forwarded-host"))
    scheme = (scheme or "").lower()
    if scheme not in _SCHEMES:
        scheme = "https" if tls else "http"
    return Origin(scheme, _validated_host(host or headers.get("host", ""), scheme, policy))


def _validated_host(raw: str, scheme: str, policy: ProxyPolicy) -> str:
    match = _HOST.fullmatch(raw.strip().lower())
    if match is None:
        raise RequestError("missing or invalid Host header", status=400)
    domain, port = match["domain"], match["port"]
    if not policy.allows(domain.strip("[]")) and not policy.allows(domain):
        raise RequestError(f"host {domain} is not served here", status=400)
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return domain
    if not 0 < int(port) < 65536:
        raise RequestError("missing or invalid Host header", status=400)
    return f"{domain}:{int(port)}"


def _last(value: str | None) -> str | None:
    if value is None:
        return None
    return value.rsplit(",", 1)[-1].strip() or None


def _last_forwarded_element(value: str) -> dict[str, str]:
    """The ``key=value`` pairs of the last element: the one our nearest proxy added."""
    pairs: dict[str, str] = {}
    element = value.rsplit(",", 1)[-1]
    for part in element.split(";"):
        key, sep, val = part.partition("=")
        if sep:
            pairs.setdefault(key.strip().lower(), val.strip().strip('"'))
    return pairs


def client_address(scope: Mapping[str, Any], policy: ProxyPolicy) -> str:
    """The payer's address for an ASGI ``scope``, by the rate limiter's rule.

    The client the limiter identified (with ``[ratelimit] client_header``) when it ran;
    otherwise the rightmost ``X-Forwarded-For`` address that is not a trusted proxy, so
    nothing a client writes left of what its proxies appended counts.
    """
    identified = scope.get(CLIENT_SCOPE_KEY)
    client = identified if isinstance(identified, Client) else policy.clients.resolve(scope)
    return str(client)
