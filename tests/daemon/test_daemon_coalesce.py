"""CoalescingTCPServer: a head goes out with its body; 100 Continue and streams never wait."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import pytest
import trio

from switchgeard.daemon.coalesce import is_final_head
from switchgeard.daemon.http import serve_asgi

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@pytest.mark.parametrize(
    ("data", "held"),
    [
        (b"HTTP/1.1 200 \r\ncontent-length: 2\r\n\r\n", True),
        (b"HTTP/1.1 404 \r\n\r\n", True),
        (b"HTTP/1.1 100 \r\n\r\n", False),
        (b"HTTP/1.1 101 \r\nupgrade: h2c\r\n\r\n", False),
        (b"HTTP/1.1 200 \r\ncontent-length: 2\r\n\r\nok", False),
        (b"HTTP/1.1 200 \r\n\r\nHTTP/1.1 200 \r\n\r\n", False),
        (b"ok", False),
        (b"\x00\x00\x04\x08\x00\x00\x00\x00\x00", False),
    ],
)
def test_only_a_whole_final_head_is_held(data: bytes, held: bool) -> None:
    assert is_final_head(data) is held


class StreamingApp:
    """/stream sends its head and first chunk, then waits for ``release`` before the last;
    anything else reads the whole request body and echoes it."""

    def __init__(self) -> None:
        self.release = trio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        start = {"type": "http.response.start", "status": 200, "headers": []}
        if scope["path"] == "/stream":
            await send(start)
            await send({"type": "http.response.body", "body": b"first", "more_body": True})
            await self.release.wait()
            await send({"type": "http.response.body", "body": b"last"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        await send({**start, "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


async def read_until(stream: trio.SocketStream, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = await stream.receive_some(65536)
        assert chunk, f"connection closed before {marker!r}: {data!r}"
        data += chunk
    return data


async def test_head_body_continue_and_streaming() -> None:
    app = StreamingApp()
    stop = trio.Event()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            urls = await nursery.start(
                partial(
                    serve_asgi,
                    app,
                    binds=["127.0.0.1:0"],
                    shutdown_trigger=stop.wait,
                    graceful_timeout=1.0,
                )
            )
            port = int(urls[0].rsplit(":", 1)[1])
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            async with stream:
                await stream.send_all(
                    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                    b"Expect: 100-continue\r\n\r\n"
                )
                interim = await read_until(stream, b"\r\n\r\n")
                assert interim.startswith(b"HTTP/1.1 100 ")
                await stream.send_all(b"hello")
                answer = await read_until(stream, b"hello")
                assert answer.startswith(b"HTTP/1.1 200 ") and b"content-length: 5" in answer
                await stream.send_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
                streamed = await read_until(stream, b"first")
                assert streamed.startswith(b"HTTP/1.1 200 ") and b"last" not in streamed
                app.release.set()
                assert b"last" in await read_until(stream, b"\r\n0\r\n\r\n")
            stop.set()
