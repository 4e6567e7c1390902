"""A fake node's connection passes on the writes of one event loop turn as one write."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from switchgeard.testing.fakeserver import _CoalescingTransport

T = TypeVar("T")


class RecordingTransport(asyncio.Transport):
    """Keeps what is written; closing and aborting only mark it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 10009)}.get(name, default)


def run(coroutine: Awaitable[T]) -> T:
    async def main() -> T:
        return await coroutine

    with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
        return runner.run(main())


def test_writes_of_one_turn_go_out_together_in_order() -> None:
    async def scenario() -> list[bytes]:
        inner = RecordingTransport()
        transport = _CoalescingTransport(inner, asyncio.get_running_loop())
        transport.write(b"headers|")
        transport.write(bytearray(b"message|"))
        transport.write(memoryview(b"trailers"))
        assert inner.writes == [] and transport.get_write_buffer_size() == 24
        await asyncio.sleep(0)
        transport.write(b"next")
        await asyncio.sleep(0)
        assert transport.get_extra_info("peername") == ("127.0.0.1", 10009)
        return inner.writes

    assert run(scenario()) == [b"headers|message|trailers", b"next"]


def test_close_sends_what_is_pending_and_abort_drops_it() -> None:
    async def scenario() -> tuple[RecordingTransport, RecordingTransport]:
        loop = asyncio.get_running_loop()
        closing, aborting = RecordingTransport(), RecordingTransport()
        polite = _CoalescingTransport(closing, loop)
        polite.write(b"goaway")
        polite.close()
        killed = _CoalescingTransport(aborting, loop)
        killed.write(b"lost")
        killed.abort()
        killed.write(b"after abort")
        await asyncio.sleep(0)
        assert polite.is_closing() and killed.is_closing()
        return closing, aborting

    closing, aborting = run(scenario())
    assert closing.writes == [b"goaway"] and closing.closed
    assert aborting.writes == [] and aborting.aborted
