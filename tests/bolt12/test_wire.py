"""BOLT 1 primitives against Appendix A (BigSize), B (TLV) and D (signed ints)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchgeard.bolt12.paths import check_point
from switchgeard.bolt12.tlv import decode_stream, encode_stream, merge_records
from switchgeard.bolt12.wire import (
    Reader,
    decode_bigsize,
    decode_signed,
    decode_tu,
    encode_bigsize,
    encode_signed,
    encode_tu,
)
from switchgeard.errors import DecodeError

from .conftest import load_vectors, record_vectors


def test_bigsize_vectors() -> None:
    data = load_vectors("extracted/bolt01-bigsize-vectors.json")
    errors = 0
    for case in data["decoding"]:
        raw = bytes.fromhex(case["bytes"])
        if "exp_error" in case:
            with pytest.raises(DecodeError):
                decode_bigsize(raw)
            errors += 1
        else:
            assert decode_bigsize(raw) == case["value"], case["name"]
    for case in data["encoding"]:
        assert encode_bigsize(case["value"]).hex() == case["bytes"], case["name"]
    assert (len(data["decoding"]), errors, len(data["encoding"])) == (18, 10, 8)
    record_vectors("BOLT 1 BigSize decode (errors) + encode", 26)


def _n1(records: tuple[tuple[int, bytes], ...]) -> None:
    """Namespace n1 of Appendix B: tlv1 tu64, tlv2 scid, tlv3 point+u64+u64, tlv4 u16."""
    for tlv_type, value in records:
        if tlv_type == 1:
            decode_tu(value, 8, "tlv1")
        elif tlv_type == 2 and len(value) != 8:
            raise DecodeError("tlv2: bad length")
        elif tlv_type == 3:
            reader = Reader(value)
            check_point(reader.read(33, "node_id"), "node_id")
            reader.u64("amount_msat_1")
            reader.u64("amount_msat_2")
            reader.finish("tlv3")
        elif tlv_type == 254 and len(value) != 2:
            raise DecodeError("tlv4: bad length")


def _n2(records: tuple[tuple[int, bytes], ...]) -> None:
    for tlv_type, value in records:
        decode_tu(value, 8 if tlv_type == 0 else 4, f"type {tlv_type}")


def _decode(stream: bytes, namespace: str) -> None:
    if namespace == "n1":
        _n1(decode_stream(stream, known={1, 2, 3, 254}))
    else:
        _n2(decode_stream(stream, known={0, 11}))


def _namespaces(context: str) -> list[str]:
    if "`n1`" in context and "either" not in context:
        return ["n1"]
    if "`n2`" in context:
        return ["n2"]
    return ["n1", "n2"]


def test_tlv_vectors() -> None:
    cases = load_vectors("extracted/bolt01-tlv-vectors.json")["cases"]
    valid = 0
    for case in cases:
        stream = bytes.fromhex(case["stream"])
        for namespace in _namespaces(case["context"]):
            if case["valid"]:
                _decode(stream, namespace)
            else:
                with pytest.raises(DecodeError):
                    _decode(stream, namespace)
        valid += case["valid"]
    assert (len(cases), valid) == (57, 19)
    record_vectors("BOLT 1 TLV streams (19 valid / 38 invalid)", len(cases))


def test_tlv_valid_values_decode_to_the_listed_values() -> None:
    assert decode_tu(decode_stream(bytes.fromhex("01050100000000"))[0][1], 8, "x") == 1 << 32
    assert decode_stream(bytes.fromhex("fd00fe020226"), known={254}) == ((254, b"\x02\x26"),)


def test_signed_int_vectors() -> None:
    cases = load_vectors("extracted/bolt01-signed-int-vectors.json")["cases"]
    for case in cases:
        assert encode_signed(case["value"]).hex() == case["bytes"]
        assert decode_signed(bytes.fromhex(case["bytes"])) == case["value"]
    assert len(cases) == 23
    record_vectors("BOLT 1 signed integers", len(cases))


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_bigsize_round_trip(value: int) -> None:
    assert decode_bigsize(encode_bigsize(value)) == value


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_tu64_round_trip(value: int) -> None:
    assert decode_tu(encode_tu(value), 8, "v") == value


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_signed_round_trip(value: int) -> None:
    assert decode_signed(encode_signed(value)) == value


_records = st.dictionaries(
    st.integers(min_value=0, max_value=2**64 - 1).map(lambda t: t | 1), st.binary(max_size=40)
).map(lambda d: tuple(sorted(d.items())))


@given(_records)
def test_tlv_round_trip_keeps_unknown_odd_records(records: tuple[tuple[int, bytes], ...]) -> None:
    assert decode_stream(encode_stream(records)) == records


@given(st.binary(max_size=64))
def test_tlv_garbage_raises_only_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_stream(data)


def test_merge_refuses_duplicates_and_encode_refuses_disorder() -> None:
    with pytest.raises(ValueError, match="twice"):
        merge_records([(1, b"")], [(1, b"x")])
    with pytest.raises(ValueError, match="increasing"):
        encode_stream([(3, b""), (1, b"")])
