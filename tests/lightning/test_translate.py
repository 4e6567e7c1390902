"""The status → error-class mapping of ``translate_errors``."""

from __future__ import annotations

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError, ProtocolError

from switchgeard.errors import (
    BackendAuthError,
    BackendError,
    BackendProtocolError,
    BackendRejected,
    BackendUnavailable,
)
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
        (GRPCError(Status.UNAUTHENTICATED, "no"), BackendAuthError),
        (GRPCError(Status.PERMISSION_DENIED, "no"), BackendAuthError),
        (GRPCError(Status.UNKNOWN, "expected 1 macaroon, got 0"), BackendAuthError),
        (GRPCError(Status.UNKNOWN, "something broke"), BackendUnavailable),
        (GRPCError(Status.UNAVAILABLE), BackendUnavailable),
        (GRPCError(Status.RESOURCE_EXHAUSTED), BackendUnavailable),
        (GRPCError(Status.DEADLINE_EXCEEDED), BackendUnavailable),
        (GRPCError(Status.INVALID_ARGUMENT, "bad"), BackendRejected),
        (GRPCError(Status.OUT_OF_RANGE), BackendRejected),
        (GRPCError(Status.ALREADY_EXISTS), BackendRejected),
        (GRPCError(Status.UNIMPLEMENTED), BackendProtocolError),
        (ProtocolError("bad frame"), BackendProtocolError),
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
