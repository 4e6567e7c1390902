"""A gRPC server stream read by a thread of its own and delivered to trio.

grpcio's synchronous API blocks in ``next(call)`` for every message. Instead of a worker
thread round trip per message, one reader thread per stream pulls the messages and hands
each to the trio thread with ``run_sync_soon``. That matters because lnd's invoice
subscription sends an event for every invoice it *adds*, so a busy node streams about as
many messages as the daemon asks it for invoices.

At most ``BUFFERED`` messages wait for the consumer; the reader then waits for room. The
call is cancelled when the consumer is cancelled while waiting, when the stream fails,
and when the consumer drops the stream (the reader holds no reference to it, so dropping
it is enough), which ends the reader thread.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from typing import Any, Generic, TypeVar, cast

import grpc
import trio

MessageT = TypeVar("MessageT")

BUFFERED = 64
"""Messages read ahead of the consumer at most."""
_ROOM_POLL = 1.0
"""How often a reader waiting for room checks whether the stream was closed (seconds)."""
_END = object()


class _Pipe:
    """What the reader thread and the consumer share: the messages handed over, the room
    left, and the consumer's parked task. Everything but the two thread primitives is
    touched only on the trio thread."""

    def __init__(self) -> None:
        self.token = trio.lowlevel.current_trio_token()
        self.ready: deque[object] = deque()
        self.room = threading.Semaphore(BUFFERED)
        self.closed = threading.Event()
        self.waiter: trio.lowlevel.Task | None = None

    def hand_over(self, item: object) -> bool:
        """From the reader thread: deliver ``item``; False once trio has finished."""
        try:
            self.token.run_sync_soon(self._arrive, item)
        except trio.RunFinishedError:
            return False
        return True

    def _arrive(self, item: object) -> None:
        self.ready.append(item)
        if self.waiter is not None:
            task, self.waiter = self.waiter, None
            trio.lowlevel.reschedule(task)


def _read(call: Any, pipe: _Pipe, failed: Callable[[grpc.RpcError], Exception]) -> None:
    """The reader thread: every message, then the end or the failure."""
    try:
        for message in call:
            while not pipe.room.acquire(timeout=_ROOM_POLL):
                if pipe.closed.is_set():
                    return
            if pipe.closed.is_set() or not pipe.hand_over(message):
                return
        pipe.hand_over(_END)
    except grpc.RpcError as exc:
        pipe.hand_over(failed(exc))
    except Exception as exc:  # a message that did not decode
        pipe.hand_over(exc)


class ServerStream(Generic[MessageT]):
    """The messages of one server-streaming ``call``, as an async iterator.

    Not an async generator: the generated stubs iterate it without closing it.
    ``failed`` turns grpcio's error into the one the caller should see.
    """

    def __init__(self, call: Any, failed: Callable[[grpc.RpcError], Exception]) -> None:
        self._call = call
        self._pipe = _Pipe()
        reader = threading.Thread(
            target=_read, args=(call, self._pipe, failed), name="switchgeard-grpc-stream"
        )
        reader.daemon = True
        reader.start()

    def __aiter__(self) -> ServerStream[MessageT]:
        return self

    async def __anext__(self) -> MessageT:
        pipe = self._pipe
        try:
            if pipe.ready:
                await trio.lowlevel.checkpoint()
            else:
                await self._wait()
        except BaseException:
            self.close()
            raise
        item = pipe.ready[0]
        if item is _END:
            raise StopAsyncIteration
        if isinstance(item, Exception):
            self.close()
            raise item
        pipe.ready.popleft()
        pipe.room.release()
        return cast(MessageT, item)

    async def _wait(self) -> None:
        pipe = self._pipe
        pipe.waiter = trio.lowlevel.current_task()

        def abort(_: object) -> trio.lowlevel.Abort:
            pipe.waiter = None
            return trio.lowlevel.Abort.SUCCEEDED

        await trio.lowlevel.wait_task_rescheduled(abort)

    def close(self) -> None:
        """Cancel the call; the reader thread ends."""
        self._pipe.closed.set()
        with suppress(Exception):
            self._call.cancel()

    def __del__(self) -> None:
        self.close()
