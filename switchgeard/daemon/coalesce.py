"""One socket write per HTTP/1.1 response head and body.

hypercorn writes an HTTP/1.1 response as separate ``send_all`` calls: the head when the
app sends ``http.response.start``, each body chunk, and the end of the message (empty
for a response with ``Content-Length``, which still costs a scheduler round trip). On a
busy daemon each is a system call and a trip through trio's send path. ``CoalescingTCPServer``
holds a final response head until the next write of the same connection (the first body
chunk, or the end of the message for an empty body) and sends both as one; empty writes
are dropped. An interim ``1xx`` head (``100 Continue``, which the client waits for before
sending its body) and every HTTP/2 frame go out unchanged, and nothing is held past the
end of a response or any other connection event.
"""

from __future__ import annotations

from typing import Any

from hypercorn.events import Event, RawData
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.trio.tcp_server import TCPServer

from switchgeard.daemon.keepalive import KeepAlive

_HEAD_END = b"\r\n\r\n"


def is_final_head(data: bytes) -> bool:
    """Whether ``data`` is exactly one HTTP/1.1 response head with a status of 200 or more."""
    return (
        data.startswith(b"HTTP/1.1 ")
        and data[9:10] != b"1"
        and data.endswith(_HEAD_END)
        and data.find(_HEAD_END) == len(data) - len(_HEAD_END)
    )


class CoalescingTCPServer(TCPServer):
    """hypercorn's trio ``TCPServer`` that sends an HTTP/1.1 head with what follows it,
    with the keep-alive timer of ``keepalive.KeepAlive``."""

    _held: bytes = b""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.idle_task = self._keep_alive = KeepAlive(  # type: ignore[assignment]
            self.config.keep_alive_timeout, self.context.terminated, self._initiate_server_close
        )

    async def _read_data(self) -> None:
        try:
            await super()._read_data()
        finally:
            self._keep_alive.finish()

    async def protocol_send(self, event: Event) -> None:
        if isinstance(event, RawData):
            data = self._held + event.data if self._held else event.data
            self._held = b""
            if not data:
                return
            if data is event.data and self._holds(data):
                self._held = data
                return
            await super().protocol_send(RawData(data=data))
            return
        if self._held:
            held, self._held = self._held, b""
            await super().protocol_send(RawData(data=held))
        await super().protocol_send(event)

    def _holds(self, data: bytes) -> bool:
        return isinstance(self.protocol.protocol, H11Protocol) and is_final_head(data)
