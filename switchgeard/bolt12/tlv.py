"""TLV streams (BOLT 1): strictly increasing types, unknown even types fail, unknown odd kept.

A decoded stream is a tuple of ``(type, value)`` records in wire order. Typed models keep
these records as they arrived, so re-encoding reproduces the input byte for byte.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterable

from switchgeard.bolt12.wire import Reader, encode_bigsize
from switchgeard.errors import DecodeError

Record = tuple[int, bytes]
"""One TLV record: its type and its raw value."""

KnownTypes = Collection[int] | Callable[[int], bool]


def _is_known(known: KnownTypes, tlv_type: int) -> bool:
    if callable(known):
        return known(tlv_type)
    return tlv_type in known


def decode_stream(data: bytes, *, known: KnownTypes = (), what: str = "tlv") -> tuple[Record, ...]:
    """Split ``data`` into records.

    Raises DecodeError on truncation, non-minimal BigSize, types that are not strictly
    increasing, and on an unknown even type (``known`` says which types the caller parses).
    """
    reader = Reader(data)
    records: list[Record] = []
    previous = -1
    while not reader.at_end():
        tlv_type = reader.bigsize(f"{what} type")
        if tlv_type <= previous:
            raise DecodeError(f"{what}: type {tlv_type} after {previous} (not strictly increasing)")
        length = reader.bigsize(f"{what} type {tlv_type} length")
        value = reader.read(length, f"{what} type {tlv_type} value")
        if tlv_type % 2 == 0 and not _is_known(known, tlv_type):
            raise DecodeError(f"{what}: unknown even type {tlv_type}")
        records.append((tlv_type, value))
        previous = tlv_type
    return tuple(records)


def encode_record(tlv_type: int, value: bytes) -> bytes:
    return encode_bigsize(tlv_type) + encode_bigsize(len(value)) + value


def encode_stream(records: Iterable[Record]) -> bytes:
    """Serialise records; they must already be in strictly increasing type order."""
    out = bytearray()
    previous = -1
    for tlv_type, value in records:
        if tlv_type <= previous:
            raise ValueError(f"TLV type {tlv_type} after {previous}: not strictly increasing")
        out += encode_record(tlv_type, value)
        previous = tlv_type
    return bytes(out)


def merge_records(*groups: Iterable[Record]) -> tuple[Record, ...]:
    """Merge record groups into one sorted stream; a type present twice is a ValueError."""
    merged = sorted((record for group in groups for record in group), key=lambda r: r[0])
    for (first, _), (second, _) in itertools.pairwise(merged):
        if first == second:
            raise ValueError(f"TLV type {first} appears twice")
    return tuple(merged)
