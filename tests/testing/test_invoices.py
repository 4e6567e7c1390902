"""The fakes' BOLT 11 encoder against a plain one: the same string for every request.

``encode_invoice`` builds the data part as one integer and its characters two words at a
time; the reference below appends word by word and runs BIP-173's checksum loop. ECDSA
signatures from coincurve are deterministic (RFC 6979), so equal inputs must give equal
strings, signature included.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import coincurve
import pytest
from bech32_reference import expand, reference_polymod
from hypothesis import given, settings
from hypothesis import strategies as st

from switchgeard.bech32 import CHARSET
from switchgeard.lightning.bolt11 import decode_invoice
from switchgeard.testing.invoices import InvoiceRequest, encode_invoice
from switchgeard.units import MSAT_PER_BTC

KEY = coincurve.PrivateKey(hashlib.sha256(b"reference fake node").digest())
TAGS = {"p": 1, "s": 16, "d": 13, "h": 23, "x": 6, "c": 24, "9": 5}


def reference_encode(request: InvoiceRequest, key: coincurve.PrivateKey) -> str:
    hrp = "ln" + request.currency + reference_amount(request.amount_msat)
    words = number_words(request.timestamp, 7)
    words += field("p", bytes_words(request.payment_hash))
    if request.payment_secret is not None:
        words += field("s", bytes_words(request.payment_secret))
    if request.description_hash is not None:
        words += field("h", bytes_words(request.description_hash))
    else:
        words += field("d", bytes_words(request.description.encode()))
    words += field("x", number_words(request.expiry))
    words += field("c", number_words(request.min_final_cltv_expiry))
    words += field("9", number_words(sum(1 << bit for bit in request.features)))
    message = hrp.encode() + words_bytes(words)
    words += bytes_words(key.sign_recoverable(hashlib.sha256(message).digest(), hasher=None))
    checksum = reference_polymod(expand(hrp) + words + [0] * 6) ^ 1
    words += [checksum >> 5 * (5 - index) & 31 for index in range(6)]
    return hrp + "1" + "".join(CHARSET[word] for word in words)


def reference_amount(amount_msat: int | None) -> str:
    """The shortest exact amount text (BOLT 11), counted in pico-bitcoin."""
    if amount_msat is None:
        return ""
    pico = amount_msat * 10
    units = ((12, ""), (9, "m"), (6, "u"), (3, "n"), (0, "p"))
    texts = [f"{pico // 10**power}{unit}" for power, unit in units if pico % 10**power == 0]
    return min(texts, key=len)


def field(tag: str, data: list[int]) -> list[int]:
    return [TAGS[tag], len(data) >> 5, len(data) & 31, *data]


def number_words(number: int, width: int = 0) -> list[int]:
    words: list[int] = []
    while number:
        words.insert(0, number & 31)
        number >>= 5
    return [0] * (width - len(words)) + words


def bytes_words(data: bytes) -> list[int]:
    bits = "".join(format(byte, "08b") for byte in data)
    bits += "0" * (-len(bits) % 5)
    return [int(bits[index : index + 5], 2) for index in range(0, len(bits), 5)]


def words_bytes(words: list[int]) -> bytes:
    bits = "".join(format(word, "05b") for word in words)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[index : index + 8], 2) for index in range(0, len(bits), 8))


HASH = st.binary(min_size=32, max_size=32)
REQUESTS = st.builds(
    InvoiceRequest,
    currency=st.sampled_from(["bc", "tb", "tbs", "bcrt"]),
    amount_msat=st.none() | st.integers(min_value=1, max_value=21_000_000 * MSAT_PER_BTC),
    payment_hash=HASH,
    payment_secret=st.none() | HASH,
    description=st.text(max_size=150),  # at most 600 bytes: fits one field
    description_hash=st.none() | HASH,
    expiry=st.integers(min_value=0, max_value=2**40),
    min_final_cltv_expiry=st.integers(min_value=0, max_value=2**20),
    timestamp=st.integers(min_value=0, max_value=2**35 - 1),
    features=st.lists(st.integers(min_value=0, max_value=300), max_size=4).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(request=REQUESTS)
def test_encoder_matches_the_word_by_word_reference(request: InvoiceRequest) -> None:
    assert encode_invoice(request, KEY) == reference_encode(request, KEY)


BASE = InvoiceRequest(
    currency="bcrt",
    amount_msat=10_000,
    payment_hash=hashlib.sha256(b"preimage").digest(),
    payment_secret=hashlib.sha256(b"secret").digest(),
    description_hash=hashlib.sha256(b"metadata").digest(),
    expiry=600,
    timestamp=1_700_000_000,
)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"amount_msat": None, "payment_secret": None},
        {"description_hash": None, "description": ""},
        {"description_hash": None, "description": "Ünïcödé ☕ x" * 20},
        {"expiry": 0, "min_final_cltv_expiry": 0, "features": ()},
        {"amount_msat": 1, "timestamp": 0},
    ],
)
def test_edge_requests_match_and_decode(changes: dict[str, Any]) -> None:
    request = replace(BASE, **changes)
    text = encode_invoice(request, KEY)
    assert text == reference_encode(request, KEY)
    if request.payment_secret is not None:  # the adapters' decoder requires one
        decoded = decode_invoice(text)
        assert decoded.payee == KEY.public_key.format().hex()
        assert decoded.amount_msat == request.amount_msat


def test_requests_that_do_not_fit_are_refused() -> None:
    too_long = replace(BASE, description_hash=None, description="x" * 640)  # 1024 words
    with pytest.raises(ValueError, match="at most 1023"):
        encode_invoice(too_long, KEY)
    with pytest.raises(ValueError, match="7 words"):
        encode_invoice(replace(BASE, timestamp=2**35), KEY)
