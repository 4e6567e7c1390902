"""HTTP/2 errors grpclib lets through (``send_headers`` on a stream the connection already
dropped raises h2's ``StreamClosedError``) are translated like any connection failure, so
they cannot escape ``lightning/`` and take down a caller that only expects BackendError."""

from __future__ import annotations

import h2.exceptions
import pytest

from switchgeard.errors import BackendUnavailable
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
    "error",
    [
        h2.exceptions.StreamClosedError(1),
        h2.exceptions.StreamIDTooLowError(1, 3),
        h2.exceptions.FlowControlError("window exceeded"),
        h2.exceptions.ProtocolError("bad frame"),
    ],
)
def test_http2_errors_are_backend_unavailable(error: Exception) -> None:
    with pytest.raises(BackendUnavailable, match="HTTP/2") as info, translate_errors(CONTEXT):
        raise error
    assert info.value.key == CONTEXT.who.key and info.value.__cause__ is error
