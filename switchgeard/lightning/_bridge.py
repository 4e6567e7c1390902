"""The only module that knows the gRPC transport: grpcio's C core, driven from trio.

A ``GrpcLink`` owns one lazily dialled grpcio channel. HTTP/2, TLS and connection
management run in grpcio's own threads; a trio task waiting for a unary call parks
until grpcio's completion callback reschedules it through the trio token, so the trio
thread spends its time only on encoding and decoding messages. Every ``call`` is bounded
by ``trio.fail_after``; cancelling it cancels the RPC, so the node sees the stream reset
and cancels its handler. A server stream is read by a thread of its own (``_stream``).
A channel that failed below gRPC is closed and dialled again on next use, so a restarted
node is used again at once (grpcio's own reconnect backoff never applies). grpcio stops a
channel's completion thread whenever no call is outstanding and starts a new one for the
next call; the adapters keep their settlement watch on the same channel, so it stays up.

A failure below gRPC (refused connection, TLS) arrives from grpcio as an UNAVAILABLE
status with a terse text; ``diagnose`` then repeats the connection and handshake with
the standard library, so the error names the real cause (untrusted certificate, name
mismatch, a refused client certificate). Foreign exceptions leave this module as
``CallFailed`` or the standard library's own; the adapters translate them.

The generated stubs (betterproto2, grpclib flavour) keep working unchanged: ``bind``
gives each stub class a twin whose ``_unary_unary`` and ``_unary_stream`` run on grpcio.
``open_bridge`` opens the asyncio loop that grpclib *servers* (the fake nodes) need.
"""

from __future__ import annotations

import math
import re
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, Protocol, TypeVar, cast

import grpc
import trio
import trio_asyncio

from switchgeard.lightning._stream import ServerStream
from switchgeard.lightning.credentials import Trust

StubT = TypeVar("StubT")
ResultT = TypeVar("ResultT")
MessageT = TypeVar("MessageT")

_DIAGNOSE_WITHIN = 3.0
_BROKEN = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL})
_TRANSPORT_TEXT = re.compile(
    r"failed to connect|handshake|ssl|tsi_|peer name|socket closed|connection reset|"
    r"broken pipe|endpoint closing|connections to all backends failing",
    re.IGNORECASE,
)
"""How grpcio words an UNAVAILABLE it made itself (the connection or TLS failed), as
opposed to one the node sent."""
_CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.http2.bdp_probe", 0),  # no PING per window: the nodes would answer each one
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.enable_retries", 0),  # an invoice request is never repeated behind our back
)


@asynccontextmanager
async def open_bridge() -> AsyncIterator[None]:
    """Run the enclosed block with an asyncio loop, for grpclib servers (the fake nodes).

    The adapters do not need it: their calls run on grpcio.
    """
    async with trio_asyncio.open_loop():
        yield


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """Where and how to dial: ``server_name`` overrides the TLS name (``domain``).

    grpcio dials with ``trust``'s PEM; ``diagnose`` handshakes with its ``context``.
    """

    host: str
    port: int
    trust: Trust
    server_name: str | None = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class CallFailed(Exception):
    """A gRPC call ended with a status other than OK."""

    def __init__(self, status: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{status.name}: {details}")
        self.status = status
        self.details = details


class ConnectionLost(Exception):
    """The node closed the connection right after the TLS handshake (with TLS 1.3, how a
    refused client certificate shows)."""


class GrpcLink(Generic[StubT]):
    """One grpcio channel to ``target``, used through ``stub_class``; close with ``aclose``."""

    def __init__(self, target: Target, stub_class: type[StubT]) -> None:
        self.target = target
        self._stub_class = bind(stub_class)
        self._channel: grpc.Channel | None = None
        self._stub: StubT | None = None
        self.dials = 0

    async def call(self, request: Callable[[StubT], Awaitable[ResultT]], timeout: float) -> ResultT:
        """Run ``request(stub)``; ``trio.TooSlowError`` after ``timeout``, which also bounds
        the diagnosis of a failed connection."""
        deadline = trio.current_time() + timeout
        stub = self._stub or self._dial()
        channel = self._channel
        try:
            with trio.fail_at(deadline):
                return await request(stub)
        except Exception as exc:
            if _breaks_channel(exc):
                self._reset(channel)
                await diagnose(self.target, exc, until=deadline)
            raise

    async def stream(
        self, open_stream: Callable[[StubT], AsyncIterator[ResultT]]
    ) -> AsyncGenerator[ResultT, None]:
        """Yield the messages of a server stream; the caller bounds the wait per item.

        Cancelling the consumer cancels the stream. Close the iterator (``aclose``) when
        leaving early so the stream is released at once.
        """
        messages = open_stream(self._stub or self._dial())
        channel = self._channel
        try:
            async for item in messages:
                yield item
        except Exception as exc:
            if _breaks_channel(exc):
                self._reset(channel)
                await diagnose(self.target, exc, until=math.inf)
            raise
        finally:
            if isinstance(messages, AsyncGenerator):
                await messages.aclose()

    def reset(self) -> None:
        """Close the channel (if any), cancelling its calls; the next call dials again."""
        channel, self._channel, self._stub = self._channel, None, None
        if channel is not None:
            channel.close()

    def _reset(self, failed: grpc.Channel | None) -> None:
        """``reset`` if ``failed`` is still the channel in use: a call that failed on a
        channel closed meanwhile must not close the one dialled since."""
        if failed is self._channel:
            self.reset()

    async def aclose(self) -> None:
        self.reset()

    def _dial(self) -> StubT:
        target = self.target
        pair = target.trust.client_pair
        credentials = grpc.ssl_channel_credentials(
            root_certificates=target.trust.roots,
            private_key=pair[0] if pair else None,
            certificate_chain=pair[1] if pair else None,
        )
        options: list[tuple[str, str | int]] = list(_CHANNEL_OPTIONS)
        if target.server_name:
            options.append(("grpc.ssl_target_name_override", target.server_name))
        self._channel = grpc.secure_channel(str(target), credentials, options)
        self._stub = self._stub_class(self._channel)  # type: ignore[call-arg]
        self.dials += 1
        return self._stub


def _breaks_channel(exc: Exception) -> bool:
    """Whether the channel must be dialled again: a failure below gRPC, or a status that
    says the connection is gone."""
    return not isinstance(exc, CallFailed) or exc.status in _BROKEN


async def diagnose(target: Target, failure: Exception, *, until: float) -> None:
    """Raise what the standard library sees when ``failure`` looks like a connection or TLS
    failure that grpcio reported only tersely; return when it cannot tell more, or cannot
    tell by ``until`` (trio time) or within ``_DIAGNOSE_WITHIN``."""
    if not (isinstance(failure, CallFailed) and _TRANSPORT_TEXT.search(failure.details)):
        return
    try:
        with trio.move_on_at(min(until, trio.current_time() + _DIAGNOSE_WITHIN)):
            await _handshake(target)
    except (OSError, ConnectionLost) as exc:
        raise exc from failure


async def _handshake(target: Target) -> None:
    """Connect, handshake and read the node's first bytes (its HTTP/2 settings)."""
    sock = await trio.open_tcp_stream(target.host, target.port)
    name = target.server_name or target.host
    stream = trio.SSLStream(sock, target.trust.context, server_hostname=name, https_compatible=True)
    async with stream:
        try:
            await stream.do_handshake()
        except trio.BrokenResourceError as exc:
            raise _cause(exc) from None
        try:
            first = await stream.receive_some()
        except trio.BrokenResourceError as exc:
            cause = _cause(exc)
            if isinstance(cause, ssl.SSLError) and "ALERT" in str(cause).upper():
                raise cause from None
            raise ConnectionLost(f"closed after the TLS handshake: {cause}") from exc
        if not first:
            raise ConnectionLost("closed after the TLS handshake")


def _cause(exc: trio.BrokenResourceError) -> Exception:
    """The socket or TLS error behind trio's ``BrokenResourceError``."""
    cause = exc.__cause__
    return cause if isinstance(cause, OSError) else ConnectionLost(f"connection broken: {exc}")


# -- the generated stubs, on grpcio ----------------------------------------------------


class _Message(Protocol):
    def __bytes__(self) -> bytes: ...


class _UnaryMethod(Protocol):
    def future(
        self, request: object, *, timeout: float | None, metadata: tuple[tuple[str, str], ...]
    ) -> grpc.Future[Any]: ...


class _StreamMethod(Protocol):
    def __call__(self, request: object, *, metadata: tuple[tuple[str, str], ...]) -> Any: ...


class _GrpcioCalls:
    """The two call shapes the adapters use, in the signature the generated stubs call."""

    channel: grpc.Channel

    def __init__(self, channel: grpc.Channel, **_: object) -> None:
        self.channel = channel
        self._methods: dict[str, Any] = {}

    async def _unary_unary(
        self,
        route: str,
        request: _Message,
        response_type: type[MessageT],
        *,
        timeout: float | None = None,
        deadline: object = None,
        metadata: Mapping[str, str] | None = None,
    ) -> MessageT:
        method: _UnaryMethod = self._method(route, response_type, unary=True)
        future = method.future(request, timeout=timeout, metadata=_pairs(metadata))
        await _completion(future)
        try:
            return cast(MessageT, future.result())
        except grpc.RpcError as exc:
            raise _failed(exc) from None

    def _unary_stream(
        self,
        route: str,
        request: _Message,
        response_type: type[MessageT],
        *,
        timeout: float | None = None,
        deadline: object = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ServerStream[MessageT]:
        method: _StreamMethod = self._method(route, response_type, unary=False)
        return ServerStream(method(request, metadata=_pairs(metadata)), _failed)

    def _method(self, route: str, response_type: type[Any], *, unary: bool) -> Any:
        method = self._methods.get(route)
        if method is None:
            make = self.channel.unary_unary if unary else self.channel.unary_stream
            method = make(
                route, request_serializer=bytes, response_deserializer=response_type.parse
            )
            self._methods[route] = method
        return method


def bind(stub_class: type[StubT]) -> type[StubT]:
    """``stub_class`` with its calls made on grpcio (one twin class per stub class)."""
    return cast(type[StubT], _twin(cast(type, stub_class)))


@cache
def _twin(stub_class: type) -> type:
    return type(stub_class.__name__, (_GrpcioCalls, stub_class), {})


async def _completion(future: grpc.Future[Any]) -> None:
    """Park the current task until ``future`` is done; cancelling cancels the call."""
    task = trio.lowlevel.current_task()
    token = trio.lowlevel.current_trio_token()
    waiting = True

    def wake() -> None:  # on the trio thread
        if waiting:
            trio.lowlevel.reschedule(task)

    def done(_: grpc.Future[Any]) -> None:  # on a grpcio thread, or at once if already done
        with suppress(trio.RunFinishedError):
            token.run_sync_soon(wake)

    def abort(_: object) -> trio.lowlevel.Abort:
        nonlocal waiting
        waiting = False
        future.cancel()
        return trio.lowlevel.Abort.SUCCEEDED

    future.add_done_callback(done)
    await trio.lowlevel.wait_task_rescheduled(abort)


def _failed(exc: grpc.RpcError) -> CallFailed:
    call = cast(grpc.Call, exc)
    return CallFailed(call.code(), call.details() or "")


def _pairs(metadata: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(metadata.items()) if metadata else ()
