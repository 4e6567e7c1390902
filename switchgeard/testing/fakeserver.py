"""The fake nodes' gRPC server: grpclib over TLS on 127.0.0.1, restartable on one port.

``ListeningServer`` listens and stops on the asyncio side (``listen``, ``close``), which
the ``fakenode`` process calls from a plain asyncio loop; ``start`` and ``stop`` are the
same from trio, through trio-asyncio, for fakes run inside a test or the demo.

Every connection writes through ``_CoalescingTransport``: grpclib hands the transport a
response's headers, message and trailers one by one, and each write would otherwise be
its own TLS record and ``send`` call. Writes made during one turn of the event loop go
out as one, as a real node's buffered HTTP/2 writer sends them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
from collections.abc import Iterable
from typing import Any, cast

import trio
import trio_asyncio
from grpclib.protocol import H2Protocol
from grpclib.server import Server

# grpclib logs every stream a client resets at INFO; the daemon resets its settlement
# watches on every shutdown, so the demo would end with one such line per fake node.
logging.getLogger("grpclib.server").setLevel(logging.WARNING)


class ListeningServer:
    """A grpclib ``Server`` on 127.0.0.1 that can stop and restart on the same port."""

    def __init__(self, services: Iterable[Any], tls: ssl.SSLContext, host: str = "127.0.0.1"):
        self._services = list(services)
        self._tls = tls
        self.host = host
        self.port = 0
        self._server: Server | None = None

    async def start(self) -> int:
        """Listen (again), from trio; returns the port, the same across restarts."""
        return await trio_asyncio.aio_as_trio(self.listen)()  # type: ignore[no-any-return]

    async def stop(self) -> None:
        """Stop listening, cancel running handlers and drop connections, from trio."""
        if self._server is not None:
            with trio.CancelScope(shield=True):
                await trio_asyncio.aio_as_trio(self.close)()

    async def listen(self) -> int:
        """``start`` on the asyncio side."""
        if self._server is None:
            self._server = await self._open()
        return self.port

    async def close(self) -> None:
        """``stop`` on the asyncio side."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), timeout=5)

    async def _open(self) -> Server:
        with contextlib.ExitStack() as on_failure:
            # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then;
            # without it Nagle + delayed ACK add ~40 ms to every RPC.
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            listener = on_failure.enter_context(tcp)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self.port))
            self.port = listener.getsockname()[1]
            server = _DroppingServer(self._services)
            await server.start(sock=listener, ssl=self._tls)
            on_failure.pop_all()  # the server owns the socket now
        return server


class _DroppingServer(Server):
    """A grpclib server that also drops its open connections when closed.

    ``Server.close`` only stops listening and cancels handlers; a node that goes down
    also breaks every connection, which clients must notice. Connections are aborted,
    as a stopped process's are: a polite TLS close_notify is not what clients see then.
    Each connection's protocol writes through a ``_CoalescingTransport``. (Relies on
    grpclib 0.4's ``_protocol_factory``, pinned in pyproject.)
    """

    def __init__(self, services: Iterable[Any]) -> None:
        super().__init__(list(services))
        self.transports: set[asyncio.BaseTransport] = set()
        self.loop = asyncio.get_running_loop()

    def _protocol_factory(self) -> H2Protocol:
        protocol = super()._protocol_factory()
        made = protocol.connection_made

        def connection_made(transport: asyncio.BaseTransport) -> None:
            self.transports.add(transport)
            made(_CoalescingTransport(cast(asyncio.Transport, transport), self.loop))

        protocol.connection_made = connection_made  # type: ignore[method-assign]
        return protocol

    def close(self) -> None:
        super().close()
        for transport in self.transports:
            cast(asyncio.Transport, transport).abort()
        self.transports.clear()


class _CoalescingTransport(asyncio.Transport):
    """Collects the writes of one event loop turn and passes them on as one write.

    Offers what grpclib's protocol uses of a transport; data still pending when the
    connection is aborted is dropped, as a killed process's unsent data is.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending and not self._transport.is_closing():
            self._transport.write(b"".join(pending))

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def get_write_buffer_size(self) -> int:
        return sum(map(len, self._pending)) + self._transport.get_write_buffer_size()


def server_context(cert: os.PathLike[str], key: os.PathLike[str]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.set_alpn_protocols(["h2"])
    context.load_cert_chain(certfile=cert, keyfile=key)
    return context
