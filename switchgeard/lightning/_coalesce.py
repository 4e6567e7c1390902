"""One socket write per event-loop turn for a grpclib connection.

grpclib writes to its transport after every HTTP/2 event: a unary call alone writes its
HEADERS, then its DATA, and acknowledgements of received data follow separately. Over
TLS each write is a record and a ``send`` system call, the most expensive single step
of a call on a busy daemon. ``CoalescingChannel`` hands grpclib a transport that
collects the writes of one loop turn (all concurrent calls' frames) and passes them on
as one write at the end of the turn; frame order is kept and nothing is held longer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from grpclib.client import Channel, Handler
from grpclib.protocol import H2Protocol


class _CoalescingTransport(asyncio.Transport):
    """Wraps an asyncio transport; ``write`` is buffered until the loop's next turn. grpclib
    uses only ``write``, ``is_closing``, ``close`` and ``get_extra_info``."""

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self._transport = transport
        self._pending: list[bytes] = []
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        data, self._pending = b"".join(self._pending), []
        if data and not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)


class _CoalescingProtocol(H2Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        super().connection_made(_CoalescingTransport(transport))


class CoalescingChannel(Channel):
    """A grpclib ``Channel`` whose connections write once per event-loop turn."""

    def _protocol_factory(self) -> H2Protocol:
        return _CoalescingProtocol(Handler(), self._config, self._h2_config)
