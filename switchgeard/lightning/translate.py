"""Translate gRPC, TLS and socket failures into ``BackendError`` classes, once.

``translate_errors`` wraps every adapter call. The mapping follows what the caller should
do: retry elsewhere (``BackendUnavailable``), not retry blindly (``BackendRejected``),
fix a named credential file (``BackendAuthError``), or distrust the node
(``BackendProtocolError``). The original exception is chained; nothing foreign escapes.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import trio
from grpc import StatusCode as Status

from switchgeard.errors import (
    BackendAuthError,
    BackendError,
    BackendProtocolError,
    BackendRejected,
    BackendUnavailable,
)
from switchgeard.lightning._bridge import CallFailed, ConnectionLost
from switchgeard.lightning.credentials import Identity

_REJECTED = frozenset(
    {
        Status.INVALID_ARGUMENT,
        Status.OUT_OF_RANGE,
        Status.ALREADY_EXISTS,
        Status.FAILED_PRECONDITION,
        Status.NOT_FOUND,
    }
)
_AUTH = frozenset({Status.UNAUTHENTICATED, Status.PERMISSION_DENIED})
# lnd reports macaroon failures as plain errors, which gRPC sends as UNKNOWN.
_LND_AUTH_TEXT = re.compile(r"macaroon|verification failed|permission denied", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What an error message should name: the node, its address and the credentials."""

    who: Identity
    target: str
    server_roots: str
    """The files (or "system roots") the server certificate is checked against."""
    credential: str
    """The file that authenticates us: the macaroon (LND) or client certificate (CLN)."""
    mutual_tls: bool = False
    timeout: float = 0.0


@contextmanager
def translate_errors(context: Context) -> Iterator[None]:
    """Re-raise anything foreign inside the block as a ``BackendError`` subclass."""
    try:
        yield
    except BackendError:
        raise
    except CallFailed as exc:
        raise _from_status(context, exc) from exc
    except trio.TooSlowError as exc:
        message = f"no answer from {context.target} within {context.timeout:g}s"
        raise BackendUnavailable(message, **_ids(context)) from exc
    except ssl.SSLCertVerificationError as exc:
        raise _untrusted_server(context, exc) from exc
    except ssl.SSLError as exc:
        raise _tls_failure(context, exc) from exc
    except ConnectionLost as exc:
        raise _connection_lost(context, exc) from exc
    except OSError as exc:
        message = f"cannot reach {context.target}: {exc.strerror or exc}"
        raise BackendUnavailable(message, **_ids(context)) from exc
    except (ValueError, TypeError, KeyError) as exc:
        message = f"undecodable answer from {context.target}: {exc}"
        raise BackendProtocolError(message, **_ids(context)) from exc


def _ids(context: Context) -> dict[str, str]:
    return {"key": context.who.key, "name": context.who.name}


def _from_status(context: Context, exc: CallFailed) -> BackendError:
    detail = exc.details or exc.status.name
    if exc.status in _AUTH or (
        exc.status is Status.UNKNOWN and _LND_AUTH_TEXT.search(detail) is not None
    ):
        message = f"node refused our credentials ({context.credential}): {detail}"
        return BackendAuthError(message, **_ids(context))
    if exc.status in _REJECTED:
        return BackendRejected(f"node rejected the request: {detail}", **_ids(context))
    if exc.status is Status.DEADLINE_EXCEEDED:
        message = f"no answer from {context.target} within the node's deadline: {detail}"
        return BackendUnavailable(message, **_ids(context))
    if exc.status is Status.UNIMPLEMENTED:
        message = f"node does not implement this call (wrong node type or version?): {detail}"
        return BackendProtocolError(message, **_ids(context))
    return BackendUnavailable(f"node failed: {exc.status.name}: {detail}", **_ids(context))


def _untrusted_server(context: Context, exc: ssl.SSLCertVerificationError) -> BackendError:
    reason = exc.verify_message or exc.reason or str(exc)
    hint = ""
    if "mismatch" in reason.lower():
        hint = "; set the backend's domain to a name in the certificate"
    message = (
        f"TLS certificate of {context.target} not accepted ({reason}); "
        f"trusted: {context.server_roots}{hint}"
    )
    return BackendAuthError(message, **_ids(context))


def _tls_failure(context: Context, exc: ssl.SSLError) -> BackendError:
    reason = exc.reason or str(exc)
    if context.mutual_tls and "ALERT" in reason.upper():
        message = f"node refused our {context.credential} during TLS ({reason})"
        return BackendAuthError(message, **_ids(context))
    return BackendUnavailable(f"TLS with {context.target} failed: {reason}", **_ids(context))


def _connection_lost(context: Context, exc: ConnectionLost) -> BackendError:
    if context.mutual_tls:
        # With TLS 1.3 a refused client certificate shows up after the handshake as a
        # lost connection, not as an SSL error; name the likely cause.
        message = (
            f"connection to {context.target} lost ({exc}); if this persists the node is "
            f"refusing our {context.credential} (check it is signed by the "
            f"node's CA)"
        )
    else:
        message = f"connection to {context.target} lost: {exc}"
    return BackendUnavailable(message, **_ids(context))
