"""BOLT 1 on top of a BOLT 8 stream: ``init``, ping/pong, warning/error, unknown messages.

Switchgear is a channel-less peer: it speaks ``init`` with ``option_data_loss_protect``
(bit 1, which lnd insists on) and ``option_onion_messages`` (bit 39), answers pings, and
hands onion messages, warnings and errors to its caller. Gossip is ignored; an unknown
even message type closes the connection, an unknown odd one is ignored.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import trio

from switchgeard.bolt12.paths import features_from_bits, unknown_even_bits
from switchgeard.bolt12.tlv import Record, decode_stream, encode_stream
from switchgeard.bolt12.transport import NoiseStream, PeerTimeout
from switchgeard.bolt12.wire import Reader
from switchgeard.errors import DecodeError, SwitchgearError

WARNING, INIT, ERROR, PING, PONG, ONION_MESSAGE = 1, 16, 17, 18, 19, 513
GOSSIP_TYPES = frozenset({256, 257, 258, 259, 261, 262, 263, 264, 265})
DEFAULT_FEATURES = (1, 39)
# Compulsory bits a channel-less peer tolerates: they only constrain channel operation,
# gossip or payments, none of which this peer performs (BOLT 9 assumes most of them).
TOLERATED_BITS = frozenset(
    bit
    for pair in (0, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 34, 38, 44, 46, 48, 50, 60, 62)
    for bit in (pair, pair + 1)
)
INIT_TIMEOUT_S = 30.0
MAX_PONG_BYTES = 65531


class PeerProtocolError(DecodeError):
    """The peer broke BOLT 1 (bad init, unknown even message, incompatible features)."""


class PeerErrorReceived(SwitchgearError):
    """The peer sent ``error``: the connection must be closed."""

    def __init__(self, channel_id: bytes, text: str) -> None:
        self.channel_id = channel_id
        self.text = text
        super().__init__(f"peer error: {text}")


@dataclass(frozen=True, slots=True)
class Init:
    """An ``init`` message. ``features`` is the OR of both bitmaps on receipt."""

    features: bytes
    networks: tuple[bytes, ...] | None = None
    global_features: bytes = b""
    extra: tuple[Record, ...] = ()

    def to_wire(self) -> bytes:
        records = list(self.extra)
        if self.networks is not None:
            records.append((1, b"".join(self.networks)))
        stream = encode_stream(sorted(records))
        return (
            INIT.to_bytes(2, "big") + _sized(self.global_features) + _sized(self.features) + stream
        )

    @classmethod
    def from_payload(cls, payload: bytes) -> Init:
        reader = Reader(payload)
        global_features = reader.read(reader.u16("init gflen"), "init globalfeatures")
        features = reader.read(reader.u16("init flen"), "init features")
        records = decode_stream(reader.rest(), known={1, 3}, what="init_tlvs")
        networks_raw = dict(records).get(1)
        if networks_raw is not None and len(networks_raw) % 32:
            raise DecodeError("init networks: length is not a multiple of 32")
        networks = None
        if networks_raw is not None:
            networks = tuple(networks_raw[i : i + 32] for i in range(0, len(networks_raw), 32))
        size = max(len(global_features), len(features))
        combined = int.from_bytes(global_features, "big") | int.from_bytes(features, "big")
        extra = tuple(r for r in records if r[0] != 1)
        return cls(combined.to_bytes(size, "big"), networks, global_features, extra)


def _sized(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


def default_init(chains: Collection[bytes]) -> Init:
    """Our ``init``: bits 1 and 39, and the chains we serve as ``networks``."""
    return Init(features_from_bits(DEFAULT_FEATURES), tuple(chains))


def _text_message(kind: int, channel_id: bytes, text: bytes) -> bytes:
    return kind.to_bytes(2, "big") + channel_id + _sized(text)


@dataclass(frozen=True, slots=True)
class Message:
    """A message the caller handles: its type and the payload after the type."""

    type: int
    payload: bytes


class Peer:
    """A BOLT 1 session on an established :class:`NoiseStream`.

    Call :meth:`exchange_init` first, then :meth:`receive` in a loop. ``receive`` answers
    pings itself and returns onion messages, warnings and unknown odd messages' types are
    skipped. Closing the stream is the caller's job (``peer.stream.aclose()``).
    """

    def __init__(
        self,
        stream: NoiseStream,
        local_init: Init,
        *,
        tolerated_bits: frozenset[int] = TOLERATED_BITS,
        chains: Collection[bytes] = (),
    ) -> None:
        self.stream = stream
        self.local_init = local_init
        self.remote_init: Init | None = None
        self._tolerated = tolerated_bits | {39}
        self._chains = frozenset(chains)

    async def exchange_init(self, *, timeout: float = INIT_TIMEOUT_S) -> Init:
        """Send our init and read theirs (it must be the first message)."""
        await self.stream.send_message(self.local_init.to_wire())
        raw: bytes | None = None
        with trio.move_on_after(timeout):
            raw = await self.stream.receive_message()
        if raw is None:
            raise PeerTimeout(f"peer sent no init within {timeout} s")
        if int.from_bytes(raw[:2], "big") != INIT:
            raise PeerProtocolError("the first message was not init")
        remote = Init.from_payload(raw[2:])
        self._check_remote(remote)
        self.remote_init = remote
        return remote

    def _check_remote(self, remote: Init) -> None:
        unknown = unknown_even_bits(remote.features, self._tolerated)
        if unknown:
            raise PeerProtocolError(f"peer requires unknown features {unknown}")
        if remote.networks is not None and self._chains and not set(remote.networks) & self._chains:
            raise PeerProtocolError("peer serves none of our chains")

    async def receive(self) -> Message:
        """The next onion message, warning or other message for the caller."""
        while True:
            raw = await self.stream.receive_message()
            if len(raw) < 2:
                raise PeerProtocolError("message shorter than its type")
            kind, payload = int.from_bytes(raw[:2], "big"), raw[2:]
            if kind == PING:
                await self._answer_ping(payload)
            elif kind == ERROR:
                channel_id, text = _parse_text(payload, "error")
                raise PeerErrorReceived(channel_id, text)
            elif kind in (WARNING, ONION_MESSAGE):
                return Message(kind, payload)
            elif kind in (PONG, INIT) or kind in GOSSIP_TYPES or kind % 2:
                continue
            else:
                raise PeerProtocolError(f"unknown even message type {kind}")

    async def _answer_ping(self, payload: bytes) -> None:
        reader = Reader(payload)
        pong_bytes = reader.u16("ping num_pong_bytes")
        reader.read(reader.u16("ping byteslen"), "ping ignored")
        if pong_bytes <= MAX_PONG_BYTES:
            await self.stream.send_message(PONG.to_bytes(2, "big") + _sized(bytes(pong_bytes)))

    async def send_ping(self, pong_bytes: int = 0) -> None:
        await self.stream.send_message(
            PING.to_bytes(2, "big") + pong_bytes.to_bytes(2, "big") + _sized(b"")
        )

    async def send_warning(self, text: str, channel_id: bytes = bytes(32)) -> None:
        await self.stream.send_message(_text_message(WARNING, channel_id, text.encode()))

    async def send_error(self, text: str, channel_id: bytes = bytes(32)) -> None:
        await self.stream.send_message(_text_message(ERROR, channel_id, text.encode()))

    async def send_onion_message(self, message_payload: bytes) -> None:
        await self.stream.send_message(ONION_MESSAGE.to_bytes(2, "big") + message_payload)


def _parse_text(payload: bytes, what: str) -> tuple[bytes, str]:
    reader = Reader(payload)
    channel_id = reader.read(32, f"{what} channel_id")
    data = reader.read(reader.u16(f"{what} len"), f"{what} data")
    return channel_id, data.decode("utf-8", "replace")


def parse_warning(payload: bytes) -> tuple[bytes, str]:
    """``(channel_id, text)`` of a warning; non-UTF-8 bytes are replaced."""
    return _parse_text(payload, "warning")
