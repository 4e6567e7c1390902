"""Independent check: BOLT 8 handshake and messages with pyln-proto in both directions.

pyln-proto pins its own coincurve, so it runs in ``.cache/pyln-venv`` (made by
``scripts/setup-npm``) as a subprocess; all traffic stays on 127.0.0.1. These tests fail
rather than skip when the venv is missing, because CI must run them.
"""

from __future__ import annotations

import functools
import json
import subprocess
from typing import Any

import coincurve
import trio

from switchgeard.bolt12 import peer as bolt1
from switchgeard.bolt12.transport import NoiseStream, handshake_inbound, handshake_outbound

from .conftest import REPO

PYTHON = REPO / ".cache" / "pyln-venv" / "bin" / "python"
SCRIPT = REPO / "tests" / "bolt12" / "pyln_peer.py"
OURS = coincurve.PrivateKey(b"\x31" * 32)
THEIRS = coincurve.PrivateKey(b"\x32" * 32)
MESSAGES = 600  # crosses the key rotation after 500 messages in each direction


class _Lines:
    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self._stream = stream
        self._buffer = b""

    async def next(self) -> dict[str, Any]:
        while b"\n" not in self._buffer:
            chunk = await self._stream.receive_some()
            assert chunk, "pyln peer exited early"
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        event: dict[str, Any] = json.loads(line)
        return event


async def _converse(stream: NoiseStream, lines: _Lines) -> None:
    assert (await lines.next())["event"] == "handshake"
    session = bolt1.Peer(stream, bolt1.default_init([]))
    remote = await session.exchange_init()
    assert int.from_bytes(remote.features, "big") == (1 << 1) | (1 << 39)
    message = await session.receive()  # answers pyln's ping on the way
    assert (message.type, message.payload) == (bolt1.ONION_MESSAGE, b"onion from pyln")
    assert (await lines.next())["event"] == "init"
    assert await lines.next() == {"event": "pong", "size": 7}
    for index in range(MESSAGES):
        body = index.to_bytes(4, "big") * 3
        await stream.send_message(b"\x80\x01" + body)
        assert await stream.receive_message() == b"\x80\x03" + body
    await stream.send_message(b"\x80\x05")
    assert await lines.next() == {"event": "done", "echoed": MESSAGES}


def _command(*args: str) -> list[str]:
    assert PYTHON.exists(), "pyln-proto venv is missing: run scripts/setup"
    return [str(PYTHON), str(SCRIPT), *args]


async def test_we_dial_pyln() -> None:
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            process = await nursery.start(
                functools.partial(
                    trio.run_process,
                    _command("listen", THEIRS.secret.hex()),
                    stdout=subprocess.PIPE,
                    check=True,
                )
            )
            lines = _Lines(process.stdout)
            port = (await lines.next())["port"]
            tcp = await trio.open_tcp_stream("127.0.0.1", port)
            stream = await handshake_outbound(tcp, OURS, THEIRS.public_key.format())
            await _converse(stream, lines)
            await stream.aclose()


async def test_pyln_dials_us() -> None:
    with trio.fail_after(30):
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listeners[0].socket.getsockname()[1]
        async with trio.open_nursery() as nursery:
            process = await nursery.start(
                functools.partial(
                    trio.run_process,
                    _command(
                        "connect", THEIRS.secret.hex(), OURS.public_key.format().hex(), str(port)
                    ),
                    stdout=subprocess.PIPE,
                    check=True,
                )
            )
            tcp = await listeners[0].accept()
            stream = await handshake_inbound(tcp, OURS)
            assert stream.remote_key == THEIRS.public_key.format()
            await _converse(stream, _Lines(process.stdout))
            await stream.aclose()
        await listeners[0].aclose()
