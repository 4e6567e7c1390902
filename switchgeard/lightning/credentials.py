"""Reading credential files and building TLS contexts for node connections.

Every failure is a ``BackendAuthError`` naming the file, raised when the backend opens,
so a wrong path or permission shows up at once rather than on the first invoice.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from switchgeard.errors import BackendAuthError


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """Who the backend is, for error messages."""

    key: str
    name: str

    def auth_error(self, message: str) -> BackendAuthError:
        return BackendAuthError(message, key=self.key, name=self.name)


def read_macaroon_hex(path: str, who: Identity) -> str:
    """Return the macaroon file's bytes, hex-encoded, as LND expects in metadata."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise who.auth_error(f"cannot read macaroon {path}: {exc.strerror or exc}") from exc
    if not data:
        raise who.auth_error(f"macaroon {path} is empty")
    return data.hex()


@dataclass(frozen=True, slots=True, kw_only=True)
class Trust:
    """One node's TLS trust and identity, twice: as a standard-library context (checked
    here, and used to diagnose failed connections) and as PEM for grpcio."""

    context: ssl.SSLContext
    roots: bytes | None
    """The ``trusted`` files and the system roots; None: grpcio's built-in roots."""
    client_pair: tuple[bytes, bytes] | None = None
    """(private key, certificate chain) for mutual TLS."""


def client_trust(
    who: Identity,
    *,
    trusted: tuple[str | Path, ...],
    client_cert: str | None = None,
    client_key: str | None = None,
) -> Trust:
    """System roots plus ``trusted`` files, and an optional client pair; every file is
    read and checked now."""
    context = client_context(who, trusted=trusted, client_cert=client_cert, client_key=client_key)
    roots = b"".join(_read_pem(path, who) for path in trusted)
    pair = None
    if client_cert is not None and client_key is not None:
        pair = (_read_pem(client_key, who), _read_pem(client_cert, who))
    all_roots = roots + _system_roots() if roots else None
    return Trust(context=context, roots=all_roots, client_pair=pair)


def client_context(
    who: Identity,
    *,
    trusted: tuple[str | Path, ...],
    client_cert: str | None = None,
    client_key: str | None = None,
) -> ssl.SSLContext:
    """A TLS 1.2+ context with system roots, ``trusted`` files and an optional client pair."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["h2"])
    for path in trusted:
        _load_roots(context, str(path), who)
    if client_cert is not None and client_key is not None:
        _load_pair(context, client_cert, client_key, who)
    return context


def _read_pem(path: str | Path, who: Identity) -> bytes:
    try:
        return Path(path).read_bytes().rstrip(b"\n") + b"\n"
    except OSError as exc:
        raise who.auth_error(f"cannot read {path}: {exc.strerror or exc}") from exc


def _system_roots() -> bytes:
    """The system's CA bundle (PEM), or nothing when the platform keeps none in a file."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate:
            try:
                return Path(candidate).read_bytes()
            except OSError:
                continue
    return b""


def _load_roots(context: ssl.SSLContext, path: str, who: Identity) -> None:
    try:
        context.load_verify_locations(cafile=path)
    except ssl.SSLError as exc:  # before OSError: SSLError is a subclass of it
        raise who.auth_error(f"certificate {path} is not valid PEM: {exc.reason}") from exc
    except OSError as exc:
        raise who.auth_error(f"cannot read certificate {path}: {exc.strerror or exc}") from exc


def _load_pair(context: ssl.SSLContext, cert: str, key: str, who: Identity) -> None:
    for path in (cert, key):
        if not Path(path).is_file():
            raise who.auth_error(f"cannot read client credential {path}: no such file")
    try:
        context.load_cert_chain(certfile=cert, keyfile=key)
    except ssl.SSLError as exc:  # before OSError: SSLError is a subclass of it
        reason = exc.reason or str(exc)
        raise who.auth_error(f"client certificate {cert} or key {key} unusable: {reason}") from exc
    except OSError as exc:
        raise who.auth_error(f"cannot read client credential {cert} / {key}: {exc}") from exc
