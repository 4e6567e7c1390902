"""The status → error-class mapping of ``translate_errors``."""

from __future__ import annotations

import pytest
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
from switchgeard.lightning.translate import Context, translate_errors

CONTEXT = Context(
    who=Identity(key="02" + "cd" * 32, name="n1"),
    target="127.0.0.1:1",
    server_roots="tls.cert",
    credential="macaroon /m",
    timeout=1.0,
)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (CallFailed(Status.UNAUTHENTICATED, "no"), BackendAuthError),
        (CallFailed(Status.PERMISSION_DENIED, "no"), BackendAuthError),
        (CallFailed(Status.UNKNOWN, "expected 1 macaroon, got 0"), BackendAuthError),
        (CallFailed(Status.UNKNOWN, "something broke"), BackendUnavailable),
        (CallFailed(Status.UNAVAILABLE, ""), BackendUnavailable),
        (CallFailed(Status.RESOURCE_EXHAUSTED, ""), BackendUnavailable),
        (CallFailed(Status.DEADLINE_EXCEEDED, ""), BackendUnavailable),
        (CallFailed(Status.INVALID_ARGUMENT, "bad"), BackendRejected),
        (CallFailed(Status.OUT_OF_RANGE, ""), BackendRejected),
        (CallFailed(Status.ALREADY_EXISTS, ""), BackendRejected),
        (CallFailed(Status.UNIMPLEMENTED, ""), BackendProtocolError),
        (ConnectionLost("closed after the TLS handshake"), BackendUnavailable),
        (ConnectionRefusedError(111, "Connection refused"), BackendUnavailable),
        (ValueError("cannot decode"), BackendProtocolError),
    ],
)
def test_mapping(error: Exception, expected: type[BackendError]) -> None:
    with pytest.raises(expected) as info, translate_errors(CONTEXT):
        raise error
    assert info.value.key == CONTEXT.who.key and info.value.name == "n1"
    assert info.value.__cause__ is error
    if expected is BackendAuthError:
        assert "macaroon /m" in str(info.value)
