"""204 and 304 answers on the real Unix socket: no body, no content-type, no content-length.

RFC 9110 8.6: a server MUST NOT send Content-Length in a 204, nor in a 304 unless it equals
the length of the 200 it stands for.

The answers are read as raw bytes from one keep-alive connection, so what hypercorn writes
is checked, not what a client library makes of it; a stray body after an empty answer would
show up at the start of the next one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trio

from admin.bodies import lnd_backend, metadata, node_key


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class RawConnection:
    """One HTTP/1.1 connection; answers are framed by content-length only (no chunking)."""

    stream: trio.SocketStream
    buffer: bytes = field(default=b"")

    async def ask(self, method: str, target: str, *, body: object = None, **headers: str) -> Answer:
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {target} HTTP/1.1", "Host: admin"]
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        await self.stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        head = await self._read_until_blank_line()
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        assert status_line.startswith("HTTP/1.1 "), head
        pairs = [line.split(":", 1) for line in header_lines]
        names = [name.strip().lower() for name, _ in pairs]
        assert len(names) == len(set(names)), f"repeated header in {header_lines}"
        answer_headers = {name.strip().lower(): value.strip() for name, value in pairs}
        assert "transfer-encoding" not in answer_headers, answer_headers
        size = int(answer_headers.get("content-length", "0"))
        return Answer(int(status_line.split()[1]), answer_headers, await self._read(size))

    async def _read_until_blank_line(self) -> bytes:
        while b"\r\n\r\n" not in self.buffer:
            await self._receive()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        return head

    async def _read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            await self._receive()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    async def _receive(self) -> None:
        chunk = await self.stream.receive_some()
        assert chunk, f"connection closed with {self.buffer!r} unread"
        self.buffer += chunk


@pytest.fixture
async def conn(admin_socket: Path) -> AsyncIterator[RawConnection]:
    stream = await trio.open_unix_socket(str(admin_socket))
    async with stream:
        yield RawConnection(stream)


def assert_empty(answer: Answer, status: int) -> None:
    assert answer.status == status, answer
    assert "content-type" not in answer.headers, answer.headers
    assert "content-length" not in answer.headers, answer.headers
    assert answer.body == b""


async def test_not_modified_has_no_content_type(conn: RawConnection) -> None:
    with trio.fail_after(5):
        etag = (await conn.ask("GET", "/discovery")).headers["etag"]
        unchanged = await conn.ask("GET", "/discovery", If_None_Match=etag)
        assert_empty(unchanged, 304)
        assert unchanged.headers["etag"] == etag
        assert (await conn.ask("GET", "/health")).status == 200


async def test_no_content_answers_have_no_content_type(conn: RawConnection) -> None:
    backend = f"/discovery/{node_key(1)}"
    meta = metadata(1)
    with trio.fail_after(5):
        assert (await conn.ask("POST", "/discovery", body=lnd_backend(1))).status == 201
        assert_empty(await conn.ask("PATCH", backend, body={"name": "x"}), 204)
        assert_empty(await conn.ask("PUT", backend, body=lnd_backend(1)), 204)
        assert_empty(await conn.ask("DELETE", backend), 204)
        assert (await conn.ask("POST", "/metadata", body=meta)).status == 201
        assert_empty(await conn.ask("DELETE", f"/metadata/default/{meta['id']}"), 204)
        assert (await conn.ask("GET", "/health")).status == 200


async def test_json_answers_keep_their_content_type(conn: RawConnection) -> None:
    with trio.fail_after(5):
        listed = await conn.ask("GET", "/discovery")
    assert listed.status == 200
    assert listed.headers["content-type"] == "application/json"
    assert json.loads(listed.body) == []
