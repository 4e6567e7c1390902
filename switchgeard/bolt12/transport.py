"""BOLT 8 transport on a trio stream: handshake with a deadline, then framed messages.

``handshake_outbound``/``handshake_inbound`` wrap any ``trio.abc.Stream`` (TCP, memory
streams in tests) and return a :class:`NoiseStream`. The caller owns the underlying
stream; ``NoiseStream.aclose`` closes it.
"""

from __future__ import annotations

import coincurve
import trio

from switchgeard.bolt12 import noise
from switchgeard.errors import SwitchgearError

HANDSHAKE_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 30.0
_RECEIVE_CHUNK = 65536


class PeerTimeout(SwitchgearError):
    """The peer did not complete a handshake act or a started message in time."""


class PeerClosed(SwitchgearError):
    """The peer closed the connection (or it broke) before a whole message arrived."""


class _Buffered:
    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self._buffer = bytearray()

    async def read_exactly(self, size: int) -> bytes:
        """Read ``size`` bytes; fewer only if the peer closed first."""
        while len(self._buffer) < size:
            try:
                chunk = await self.stream.receive_some(_RECEIVE_CHUNK)
            except trio.BrokenResourceError:
                chunk = b""
            if not chunk:
                break
            self._buffer += chunk
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out


class NoiseStream:
    """Encrypted, framed BOLT 8 messages over a stream. One reader and one writer task."""

    def __init__(self, reader: _Buffered, ciphers: noise.CipherPair, remote_key: bytes) -> None:
        self._reader = reader
        self._ciphers = ciphers
        self._send_lock = trio.Lock()
        self.remote_key = remote_key
        """The peer's static (node) public key, compressed."""

    async def send_message(self, message: bytes) -> None:
        """Encrypt and send one message (type and payload). Raises PeerClosed."""
        async with self._send_lock:
            frame = self._ciphers.encrypt_message(message)
            try:
                await self._reader.stream.send_all(frame)
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                raise PeerClosed("connection closed while sending") from exc

    async def receive_message(self, *, body_timeout: float = BODY_TIMEOUT_S) -> bytes:
        """Wait for the next message. Raises PeerClosed, PeerTimeout or DecodeError."""
        header = await self._reader.read_exactly(noise.HEADER_SIZE)
        if len(header) < noise.HEADER_SIZE:
            raise PeerClosed("connection closed")
        size = self._ciphers.decrypt_length(header)
        with trio.move_on_after(body_timeout):
            body = await self._reader.read_exactly(size)
            if len(body) < size:
                raise PeerClosed("connection closed inside a message")
            return self._ciphers.decrypt_body(body)
        raise PeerTimeout(f"message body of {size} bytes did not arrive in {body_timeout} s")

    async def aclose(self) -> None:
        await self._reader.stream.aclose()


async def _act(reader: _Buffered, size: int, act: str) -> bytes:
    data = await reader.read_exactly(size)
    if len(data) < size:
        raise noise.HandshakeError(f"{act}_READ_FAILED", f"got {len(data)} of {size} bytes")
    return data


async def _send(stream: trio.abc.Stream, data: bytes) -> None:
    try:
        await stream.send_all(data)
    except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
        raise PeerClosed("connection closed during the handshake") from exc


async def handshake_outbound(
    stream: trio.abc.Stream,
    local_key: coincurve.PrivateKey,
    remote_key: bytes,
    *,
    ephemeral_key: coincurve.PrivateKey | None = None,
    timeout: float = HANDSHAKE_TIMEOUT_S,
) -> NoiseStream:
    """Run acts one to three as initiator. Raises HandshakeError, PeerTimeout, PeerClosed."""
    reader = _Buffered(stream)
    initiator = noise.Initiator(local_key, remote_key, ephemeral_key)
    with trio.move_on_after(timeout):
        await _send(stream, initiator.act_one())
        act_three, ciphers = initiator.act_three(await _act(reader, noise.ACT_TWO_SIZE, "ACT2"))
        await _send(stream, act_three)
        return NoiseStream(reader, ciphers, remote_key)
    raise PeerTimeout(f"BOLT 8 handshake did not finish in {timeout} s")


async def handshake_inbound(
    stream: trio.abc.Stream,
    local_key: coincurve.PrivateKey,
    *,
    ephemeral_key: coincurve.PrivateKey | None = None,
    timeout: float = HANDSHAKE_TIMEOUT_S,
) -> NoiseStream:
    """Answer a handshake as responder; the result's ``remote_key`` names the peer."""
    reader = _Buffered(stream)
    responder = noise.Responder(local_key, ephemeral_key)
    with trio.move_on_after(timeout):
        await _send(stream, responder.act_two(await _act(reader, noise.ACT_ONE_SIZE, "ACT1")))
        remote, ciphers = responder.finish(await _act(reader, noise.ACT_THREE_SIZE, "ACT3"))
        return NoiseStream(reader, ciphers, remote)
    raise PeerTimeout(f"BOLT 8 handshake did not finish in {timeout} s")
