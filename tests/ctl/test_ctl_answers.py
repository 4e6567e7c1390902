"""ctl against a socket that is not (or stops being) switchgeard: one line, exit 1, the path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest
import trio

from ctl.conftest import run_ctl


async def _answer_once(reply: bytes, stream: trio.SocketStream) -> None:
    async with stream:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = await stream.receive_some()
            if not chunk:
                return
            request += chunk
        await stream.send_all(reply)


@pytest.fixture
async def fake_socket(short_dir: Path) -> AsyncIterator[tuple[Path, list[bytes]]]:
    """A Unix socket whose server sends ``replies[0]`` to every request, then closes."""
    path = short_dir / "fake.sock"
    replies: list[bytes] = [b""]
    sock = trio.socket.socket(trio.socket.AF_UNIX)
    await sock.bind(str(path))
    sock.listen(8)
    listener = trio.SocketListener(sock)

    async def serve(stream: trio.SocketStream) -> None:
        await _answer_once(replies[0], stream)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(partial(trio.serve_listeners, serve, [listener]))
        yield path, replies
        nursery.cancel_scope.cancel()


def _http(status: str, content_type: str, body: bytes, *, length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {size}\r\n\r\n"
    return head.encode() + body


@pytest.mark.parametrize(
    "reply",
    [
        _http("200 OK", "text/html", b"<html>hello</html>"),
        _http("200 OK", "application/json", b'{"backends": ['),
        _http("200 OK", "application/json", b"\xff\xfe{}"),
        _http("200 OK", "application/json", b'{"backends": []}', length=500),
        b"",
        b"SSH-2.0-OpenSSH_9.2\r\n",
    ],
    ids=["html", "truncated-json", "not-utf8", "closed-mid-body", "closed", "not-http"],
)
@pytest.mark.parametrize("json_flag", [False, True], ids=["table", "json"])
async def test_a_bad_answer_is_one_line_naming_the_socket(
    fake_socket: tuple[Path, list[bytes]], reply: bytes, json_flag: bool
) -> None:
    path, replies = fake_socket
    replies[0] = reply
    flags = ["--json"] if json_flag else []
    ran = await run_ctl("--socket", str(path), *flags, "status")
    assert ran.code == 1, ran
    assert ran.out == ""
    assert ran.err.count("\n") == 1 and str(path) in ran.err, ran.err


@pytest.mark.parametrize("interval", ["0", "-1", "nan", "inf", "soon"])
async def test_watch_interval_must_be_a_positive_number(interval: str) -> None:
    ran = await run_ctl("--socket", "/nonexistent", "status", "--watch", "--interval", interval)
    assert ran.code == 2, ran
    assert "interval" in ran.err
