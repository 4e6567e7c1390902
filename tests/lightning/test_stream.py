"""``ServerStream``: one reader thread per stream, bounded read-ahead, cancellation."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import grpc
import pytest
import trio

from switchgeard.lightning import _stream
from switchgeard.lightning._stream import BUFFERED, ServerStream


class Failed(grpc.RpcError):
    pass


class FakeCall:
    """Stands in for grpcio's rendezvous: an iterator that blocks like a live stream
    until messages are released, and ``cancel`` that ends it with an RpcError."""

    def __init__(self, messages: int, *, then_fail: bool = False) -> None:
        self.released = threading.Semaphore(0)
        self.messages = messages
        self.then_fail = then_fail
        self.read = 0
        self.cancelled = threading.Event()

    def __iter__(self) -> Iterator[int]:
        while self.read < self.messages:
            while not self.released.acquire(timeout=0.01):
                if self.cancelled.is_set():
                    raise Failed("cancelled")
            self.read += 1
            yield self.read
        if self.then_fail:
            raise Failed("node went away")
        # a live stream that sends nothing more until cancelled
        self.cancelled.wait()
        raise Failed("cancelled")

    def cancel(self) -> None:
        self.cancelled.set()


def failed(exc: grpc.RpcError) -> Exception:
    return RuntimeError(f"translated: {exc}")


def readers() -> int:
    return sum(t.name == "switchgeard-grpc-stream" for t in threading.enumerate())


async def wait_until(condition: object) -> None:
    with trio.fail_after(5):
        while not condition():  # type: ignore[operator]
            await trio.sleep(0.01)


async def test_messages_arrive_in_order_and_failure_is_translated() -> None:
    call = FakeCall(3, then_fail=True)
    stream: ServerStream[int] = ServerStream(call, failed)
    for _ in range(3):
        call.released.release()
    got = [await anext(stream) for _ in range(3)]
    assert got == [1, 2, 3]
    with pytest.raises(RuntimeError, match="translated: node went away"):
        await anext(stream)
    assert call.cancelled.is_set()


async def test_read_ahead_is_bounded() -> None:
    call = FakeCall(BUFFERED + 10)
    stream: ServerStream[int] = ServerStream(call, failed)
    for _ in range(BUFFERED + 10):
        call.released.release()
    await wait_until(lambda: call.read >= BUFFERED)
    await trio.sleep(0.1)
    assert call.read == BUFFERED + 1  # one more read, waiting for room
    assert await anext(stream) == 1
    await wait_until(lambda: call.read == BUFFERED + 2)
    stream.close()


async def test_cancelling_the_consumer_cancels_the_call_and_ends_the_reader() -> None:
    before = readers()
    call = FakeCall(1)
    stream: ServerStream[int] = ServerStream(call, failed)
    with trio.move_on_after(0.05):
        await anext(stream)
    assert call.cancelled.is_set()
    await wait_until(lambda: readers() == before)


async def test_dropping_the_stream_cancels_the_call() -> None:
    before = readers()
    call = FakeCall(2)
    stream: ServerStream[int] = ServerStream(call, failed)
    call.released.release()
    assert await anext(stream) == 1
    del stream
    gc.collect()
    assert call.cancelled.is_set()
    await wait_until(lambda: readers() == before)


async def test_a_reader_waiting_for_room_ends_when_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_stream, "_ROOM_POLL", 0.01)
    before = readers()
    call = FakeCall(BUFFERED + 5)
    stream: ServerStream[int] = ServerStream(call, failed)
    for _ in range(BUFFERED + 5):
        call.released.release()
    await wait_until(lambda: call.read == BUFFERED + 1)
    stream.close()
    await wait_until(lambda: readers() == before)
