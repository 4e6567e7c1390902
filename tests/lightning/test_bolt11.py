"""BOLT 11 decoding against the spec's examples, and our encoder against PyPI ``bolt11``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import bolt11
import coincurve
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchgeard.errors import DecodeError
from switchgeard.lightning.bolt11 import decode_invoice
from switchgeard.testing.invoices import InvoiceRequest, encode_invoice

VECTORS = json.loads((Path(__file__).parent / "data" / "bolt11_vectors.json").read_text())
KEY = coincurve.PrivateKey(bytes.fromhex(VECTORS["private_key"]))


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["title"][:60] for item in items]


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=_ids(VECTORS["valid"]))
def test_valid_examples_decode_as_the_spec_says(vector: dict[str, Any]) -> None:
    invoice = decode_invoice(vector["invoice"])
    assert invoice.currency == vector["currency"]
    assert invoice.amount_msat == vector["amount_msat"]
    assert invoice.timestamp == vector["timestamp"]
    assert invoice.payment_hash == vector["payment_hash"]
    assert invoice.payment_secret == vector["payment_secret"]
    assert invoice.payee == vector["payee"] == KEY.public_key.format().hex()
    assert invoice.description == vector["description"]
    assert invoice.description_hash == vector["description_hash"]
    assert invoice.expiry == vector["expiry"]
    assert invoice.min_final_cltv_expiry == vector["min_final_cltv_expiry"]
    assert sorted(invoice.features) == vector["features"]
    assert (invoice.metadata.hex() if invoice.metadata else None) == vector["metadata"]


def test_route_hints_and_fallbacks_are_parsed() -> None:
    routed = next(v for v in VECTORS["valid"] if "extra routing info" in v["title"])
    invoice = decode_invoice(routed["invoice"])
    first, second = invoice.routes[0]
    assert first.pubkey.startswith("029e03a901b85534ff1e92c43c74431f7ce7204606")
    assert (first.fee_base_msat, first.fee_proportional_millionths, first.cltv_expiry_delta) == (
        1,
        20,
        3,
    )
    assert (second.fee_base_msat, second.cltv_expiry_delta) == (2, 4)
    assert invoice.fallbacks[0][0] == 17  # P2PKH


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=_ids(VECTORS["invalid"]))
def test_invalid_examples_are_rejected(vector: dict[str, Any]) -> None:
    with pytest.raises(DecodeError):
        decode_invoice(vector["invoice"])


def test_hash_example_commits_to_the_spec_sentence() -> None:
    hashed = next(v for v in VECTORS["valid"] if "(hashed)" in v["title"])
    sentence = (
        "One piece of chocolate cake, one icecream cone, one pickle, one slice of swiss "
        "cheese, one slice of salami, one lollypop, one piece of cherry pie, one sausage, "
        "one cupcake, and one slice of watermelon"
    )
    invoice = decode_invoice(hashed["invoice"])
    assert invoice.description_hash == hashlib.sha256(sentence.encode()).hexdigest()


@settings(max_examples=40, deadline=None)
@given(
    amount=st.integers(min_value=1, max_value=21_000_000 * 10**11),
    currency=st.sampled_from(["bc", "tb", "tbs", "bcrt"]),
    description=st.text(max_size=80),
    hashed=st.booleans(),
    expiry=st.integers(min_value=1, max_value=10**7),
)
def test_fake_invoices_decode_identically_with_pypi_bolt11(
    amount: int, currency: str, description: str, hashed: bool, expiry: int
) -> None:
    preimage = hashlib.sha256(description.encode() + amount.to_bytes(16, "big")).digest()
    request = InvoiceRequest(
        currency=currency,
        amount_msat=amount,
        payment_hash=hashlib.sha256(preimage).digest(),
        payment_secret=preimage,
        description=description,
        description_hash=hashlib.sha256(description.encode()).digest() if hashed else None,
        expiry=expiry,
        timestamp=1_700_000_000,
    )
    text = encode_invoice(request, KEY)
    ours, theirs = decode_invoice(text), bolt11.decode(text)
    assert ours.amount_msat == theirs.amount_msat == amount
    assert ours.payee == theirs.payee == KEY.public_key.format().hex()
    assert ours.payment_hash == theirs.payment_hash == request.payment_hash.hex()
    assert ours.description_hash == theirs.description_hash
    assert ours.expiry == theirs.expiry == expiry
    assert ours.currency == theirs.currency == currency


@pytest.mark.parametrize(
    "text",
    [
        "lnbc1",  # no data
        "lnbc" + "1" + "q" * 120,  # bad checksum
        "lnbc2500u1pvjluez\x00",  # control character
        "lnxy1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypq",
    ],
)
def test_garbage_is_a_decode_error(text: str) -> None:
    with pytest.raises(DecodeError):
        decode_invoice(text)
