"""BOLT 1 primitive types: BigSize, fixed and truncated integers, signed integers.

Everything that reads bytes goes through :class:`Reader`, so a short or malformed input
always ends in :class:`~switchgeard.errors.DecodeError` naming the field being read.
"""

from __future__ import annotations

from switchgeard.errors import DecodeError

_SIGNED_WIDTHS = (1, 2, 4, 8)


class Reader:
    """A cursor over ``data``; every read names the field so errors say what was cut short."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def at_end(self) -> bool:
        return self._pos >= len(self._data)

    def read(self, size: int, what: str) -> bytes:
        if size < 0 or self._pos + size > len(self._data):
            raise DecodeError(f"{what}: unexpected end of data")
        chunk = self._data[self._pos : self._pos + size]
        self._pos += size
        return chunk

    def rest(self) -> bytes:
        chunk = self._data[self._pos :]
        self._pos = len(self._data)
        return chunk

    def u8(self, what: str) -> int:
        return self.read(1, what)[0]

    def u16(self, what: str) -> int:
        return int.from_bytes(self.read(2, what), "big")

    def u32(self, what: str) -> int:
        return int.from_bytes(self.read(4, what), "big")

    def u64(self, what: str) -> int:
        return int.from_bytes(self.read(8, what), "big")

    def bigsize(self, what: str) -> int:
        first = self.u8(what)
        if first < 0xFD:
            return first
        width = {0xFD: 2, 0xFE: 4, 0xFF: 8}[first]
        value = int.from_bytes(self.read(width, what), "big")
        if value < (0xFD, 0x10000, 0x100000000)[(2, 4, 8).index(width)]:
            raise DecodeError(f"{what}: BigSize is not minimally encoded")
        return value

    def finish(self, what: str) -> None:
        """Fail unless everything was consumed."""
        if not self.at_end():
            raise DecodeError(f"{what}: {self.remaining} unexpected trailing bytes")


def encode_bigsize(value: int) -> bytes:
    """Encode ``value`` (0 ≤ value < 2**64) as a minimal BigSize."""
    if value < 0 or value >= 1 << 64:
        raise ValueError(f"BigSize out of range: {value}")
    if value < 0xFD:
        return bytes([value])
    if value < 0x10000:
        return b"\xfd" + value.to_bytes(2, "big")
    if value < 0x100000000:
        return b"\xfe" + value.to_bytes(4, "big")
    return b"\xff" + value.to_bytes(8, "big")


def decode_bigsize(data: bytes, what: str = "bigsize") -> int:
    """Decode exactly one BigSize filling ``data``."""
    reader = Reader(data)
    value = reader.bigsize(what)
    reader.finish(what)
    return value


def encode_tu(value: int, max_bytes: int = 8) -> bytes:
    """Encode a truncated unsigned integer (tu16/tu32/tu64): big-endian, no leading zeros."""
    if value < 0 or value >= 1 << (8 * max_bytes):
        raise ValueError(f"truncated integer out of range: {value}")
    return value.to_bytes(max_bytes, "big").lstrip(b"\x00")


def decode_tu(data: bytes, max_bytes: int, what: str) -> int:
    """Decode a truncated unsigned integer that fills ``data``; rejects leading zero bytes."""
    if len(data) > max_bytes:
        raise DecodeError(f"{what}: {len(data)} bytes is too long for tu{8 * max_bytes}")
    if data[:1] == b"\x00":
        raise DecodeError(f"{what}: truncated integer is not minimally encoded")
    return int.from_bytes(data, "big")


def encode_signed(value: int) -> bytes:
    """Encode ``value`` in the smallest of s8/s16/s32/s64 that holds it (two's complement)."""
    for width in _SIGNED_WIDTHS:
        bound = 1 << (8 * width - 1)
        if -bound <= value < bound:
            return value.to_bytes(width, "big", signed=True)
    raise ValueError(f"signed integer out of s64 range: {value}")


def decode_signed(data: bytes, what: str = "signed integer") -> int:
    """Decode a big-endian two's complement s8/s16/s32/s64 filling ``data``."""
    if len(data) not in _SIGNED_WIDTHS:
        raise DecodeError(f"{what}: {len(data)} bytes is not a signed integer width")
    return int.from_bytes(data, "big", signed=True)
