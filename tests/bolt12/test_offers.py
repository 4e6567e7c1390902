"""Bolt12 strings and offers against bolt12/format-string-test.json and offers-test.json."""

from __future__ import annotations

import pytest

from switchgeard.bolt12.messages import Offer
from switchgeard.bolt12.strings import decode_string, encode_string
from switchgeard.errors import DecodeError

from .conftest import load_vectors, record_vectors


def test_format_string_vectors() -> None:
    cases = load_vectors("bolt12/format-string-test.json")
    reference = decode_string(cases[0]["string"])
    for case in cases:
        if case["valid"]:
            assert decode_string(case["string"]) == reference, case["comment"]
        else:
            with pytest.raises(DecodeError):
                decode_string(case["string"])
    assert (len(cases), sum(c["valid"] for c in cases)) == (12, 6)
    record_vectors("BOLT 12 format strings (6 valid / 6 invalid)", len(cases))


def test_offer_vectors() -> None:
    cases = load_vectors("bolt12/offers-test.json")
    valid = 0
    for case in cases:
        if case["valid"]:
            offer = Offer.decode(case["bolt12"])
            expected = [(f["type"], bytes.fromhex(f["hex"])) for f in case["fields"]]
            assert list(offer.records) == expected, case["description"]
            assert all(f["length"] == len(bytes.fromhex(f["hex"])) for f in case["fields"])
            assert offer.encode() == case["bolt12"].lower().replace("+", "")
            valid += 1
        else:
            with pytest.raises(DecodeError):
                Offer.decode(case["bolt12"])
    assert (len(cases), valid) == (53, 20)
    record_vectors("BOLT 12 offers (20 valid / 33 invalid)", len(cases))


def test_string_round_trip_of_every_length() -> None:
    for size in range(70):
        payload = bytes(range(size))
        assert decode_string(encode_string("lni", payload)) == ("lni", payload)
