"""How to reach a node: frozen endpoint values the daemon builds from backend records."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True, kw_only=True)
class LndEndpoint:
    """An LND node: gRPC over TLS, authenticated by a macaroon.

    ``tls_cert_path`` is the node's ``tls.cert`` (trusted in addition to the system roots
    and ``[lightning] trusted_roots_file``); ``domain`` overrides the TLS server name.
    """

    url: str
    macaroon_path: str
    tls_cert_path: str | None = None
    domain: str | None = None
    amp_invoice: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ClnEndpoint:
    """A Core Lightning node: the cln-grpc plugin over mutual TLS."""

    url: str
    client_cert_path: str
    client_key_path: str
    ca_cert_path: str | None = None
    domain: str | None = None


Endpoint = LndEndpoint | ClnEndpoint


def split_url(url: str) -> tuple[str, int]:
    """Return (host, port) of ``https://host:port`` or ``host:port``.

    Raises ``ValueError`` with a message naming the problem.
    """
    text = url.strip()
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if parts.scheme not in ("https", "grpcs"):
        raise ValueError(f"url {url!r}: scheme must be https (gRPC always uses TLS here)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"url {url!r}: must be host:port with no path")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"url {url!r}: invalid port") from exc
    if not parts.hostname or port is None:
        raise ValueError(f"url {url!r}: needs a host and a port")
    return parts.hostname, port
