"""The only module that knows grpclib runs on asyncio.

``open_bridge()`` opens one trio-asyncio loop for the process. A ``GrpcLink`` owns one
lazily dialled grpclib channel: every ``call`` is bounded by ``trio.fail_after`` (which
covers connect and request), and cancelling it cancels the asyncio task, so grpclib
resets the HTTP/2 stream and the server's handler is cancelled too. A channel that
failed below gRPC (connection lost, TLS, timeout) is closed and re-dialled on next use.
Foreign exceptions pass through unchanged; the adapters translate them.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

import trio
import trio_asyncio
from grpclib.client import Channel
from grpclib.config import Configuration
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from switchgeard.lightning._coalesce import CoalescingChannel

StubT = TypeVar("StubT")
ResultT = TypeVar("ResultT")

_CLOSE_GRACE = 1.0
_BROKEN_STATUSES = frozenset({Status.UNAVAILABLE, Status.INTERNAL})


@asynccontextmanager
async def open_bridge() -> AsyncIterator[None]:
    """Run the enclosed block with the asyncio loop grpclib needs.

    Open it once, around everything that uses Lightning backends; every backend opened
    inside must be closed before it exits.
    """
    async with trio_asyncio.open_loop():
        yield


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """Where and how to dial: ``server_name`` overrides the TLS name (``domain``)."""

    host: str
    port: int
    tls: ssl.SSLContext
    server_name: str | None = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class GrpcLink(Generic[StubT]):
    """One grpclib channel to ``target``, wrapped by ``make_stub``; close with ``aclose``."""

    def __init__(self, target: Target, make_stub: Callable[[Channel], StubT]) -> None:
        self.target = target
        self._make_stub = make_stub
        self._channel: Channel | None = None
        self._stub: StubT | None = None
        self._dialling = trio.Lock()
        self.dials = 0

    async def call(self, request: Callable[[StubT], Awaitable[ResultT]], timeout: float) -> ResultT:
        """Run ``request(stub)`` on the asyncio loop; ``trio.TooSlowError`` after ``timeout``.

        Every invoice goes through here, so the block is written out rather than wrapped
        in ``_reset_when_broken`` (a generator per call), and a dialled stub is taken
        without the dialling lock (whose acquisition is a scheduler round trip).
        """
        try:
            with trio.fail_after(timeout):
                stub = self._stub
                if stub is None:
                    stub = await self._connected_stub()
                result: ResultT = await trio_asyncio.aio_as_trio(request)(stub)
                return result
        except Exception as exc:
            if _breaks_channel(exc):
                await self.reset()
            raise

    async def stream(
        self, open_stream: Callable[[StubT], AsyncIterator[ResultT]]
    ) -> AsyncGenerator[ResultT, None]:
        """Yield the messages of a server stream; the caller bounds the wait per item.

        Cancelling the consumer resets the stream. Close the iterator (``aclose``) when
        leaving early so the stream is released at once.
        """
        stub = await self._connected_stub()
        messages = open_stream(stub)
        try:
            async with self._reset_when_broken():
                while True:
                    try:
                        item = await trio_asyncio.aio_as_trio(messages.__anext__)()
                    except StopAsyncIteration:
                        return
                    yield item
        finally:
            if isinstance(messages, AsyncGenerator):
                with trio.move_on_after(_CLOSE_GRACE, shield=True):
                    await trio_asyncio.aio_as_trio(messages.aclose)()

    async def reset(self) -> None:
        """Close the channel (if any); the next call dials again."""
        channel, self._channel, self._stub = self._channel, None, None
        if channel is not None:
            with trio.move_on_after(_CLOSE_GRACE, shield=True):
                await trio_asyncio.aio_as_trio(_close_channel)(channel)

    async def aclose(self) -> None:
        await self.reset()

    @asynccontextmanager
    async def _reset_when_broken(self) -> AsyncIterator[None]:
        """Reset the channel when the block fails below gRPC or with a broken status."""
        try:
            yield
        except Exception as exc:
            if _breaks_channel(exc):
                await self.reset()
            raise

    async def _connected_stub(self) -> StubT:
        if trio_asyncio.current_loop.get() is None:
            raise RuntimeError("Lightning calls need `async with open_bridge():` around them")
        async with self._dialling:
            if self._stub is None:
                self._channel = await trio_asyncio.aio_as_trio(_dial)(self.target)
                self._stub = self._make_stub(self._channel)
                self.dials += 1
            return self._stub


def _breaks_channel(exc: Exception) -> bool:
    """Whether the channel must be dialled again: any failure below gRPC, or a status
    that says the connection is gone."""
    return not isinstance(exc, GRPCError) or exc.status in _BROKEN_STATUSES


async def _dial(target: Target) -> Channel:
    config = Configuration(ssl_target_name_override=target.server_name)
    return CoalescingChannel(target.host, target.port, ssl=target.tls, config=config)


async def _close_channel(channel: Channel) -> None:
    channel.close()
