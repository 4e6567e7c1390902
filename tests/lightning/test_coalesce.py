"""The coalescing transport under grpclib: one write per loop turn, in order, flushed on close."""

from __future__ import annotations

import asyncio
from typing import Any

from switchgeard.lightning._coalesce import _CoalescingTransport


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "write after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 10009)}.get(name, default)


def _run(body: Any) -> RecordingTransport:
    async def main() -> RecordingTransport:
        inner = RecordingTransport()
        await body(_CoalescingTransport(inner))
        return inner

    return asyncio.run(main())


def test_writes_of_one_loop_turn_reach_the_socket_as_one_write_in_order() -> None:
    async def body(transport: _CoalescingTransport) -> None:
        transport.write(b"HEADERS")
        transport.write(b"")
        transport.write(bytearray(b"DATA"))
        await asyncio.sleep(0)
        transport.write(b"WINDOW_UPDATE")
        await asyncio.sleep(0)

    assert _run(body).writes == [b"HEADERSDATA", b"WINDOW_UPDATE"]


def test_close_writes_what_is_pending_first_and_later_writes_are_dropped() -> None:
    async def body(transport: _CoalescingTransport) -> None:
        transport.write(b"RST_STREAM")
        transport.close()
        assert transport.is_closing()
        transport.write(b"late")
        await asyncio.sleep(0)

    inner = _run(body)
    assert inner.writes == [b"RST_STREAM"] and inner.closed


def test_extra_info_comes_from_the_wrapped_transport() -> None:
    async def body(transport: _CoalescingTransport) -> None:
        assert transport.get_extra_info("peername") == ("127.0.0.1", 10009)
        assert transport.get_extra_info("ssl_object") is None

    _run(body)
