"""Offer generation, invoice_request and invoice building, reader rules, and fuzzing."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchgeard.bolt12 import keys, rules
from switchgeard.bolt12.fields import InvalidField, InvoiceErrorFields, InvreqFields, OfferFields
from switchgeard.bolt12.generate import is_our_path_id
from switchgeard.bolt12.messages import Invoice, InvoiceError, InvoiceRequest, Offer
from switchgeard.bolt12.onion import EncryptedData, OnionMessage, OnionMessagePayload
from switchgeard.bolt12.peer import Init
from switchgeard.bolt12.tlv import encode_stream, merge_records
from switchgeard.errors import ConfigError, DecodeError

from . import flow

OFFER = flow.make_offer()
REQUEST = flow.make_request(OFFER, note="for the café ☕")
INVOICE = flow.make_invoice(REQUEST)


def test_generated_offer_is_deterministic_and_valid() -> None:
    assert flow.make_offer().encode() == OFFER.encode()
    other = flow.make_offer(dataclasses.replace(flow.Row(), id=flow.Row().id.__class__(int=7)))
    assert other.offer.issuer_id != OFFER.offer.issuer_id
    assert Offer.decode(OFFER.encode()) == OFFER
    assert OFFER.offer.amount is None
    fixed = flow.make_offer(dataclasses.replace(flow.Row(), max_sendable=flow.Row().min_sendable))
    assert fixed.offer.amount == 1000


def test_invoice_copies_the_request_and_verifies() -> None:
    assert INVOICE.matches_request(REQUEST)
    assert (2_000_000_001, b"unknown odd") in INVOICE.records
    assert Invoice.decode(INVOICE.encode()) == INVOICE
    assert InvoiceRequest.decode(REQUEST.encode()) == REQUEST
    assert INVOICE.invoice.node_id == OFFER.offer.issuer_id
    rules.check_invoice_current(INVOICE.invoice, now=INVOICE.invoice.created_at or 0)
    with pytest.raises(InvalidField, match="expired"):
        rules.check_invoice_current(INVOICE.invoice, now=(INVOICE.invoice.created_at or 0) + 86401)


def test_the_path_id_of_the_offer_is_recognised() -> None:
    from switchgeard.bolt12.generate import path_id

    row = flow.Row()
    assert is_our_path_id(
        flow.SEED, row.partition, row.id, path_id(flow.SEED, row.partition, row.id)
    )
    assert not is_our_path_id(flow.SEED, row.partition, row.id, b"\x00" * 32)
    assert not is_our_path_id(flow.SEED, row.partition, row.id, None)


@pytest.mark.parametrize(
    ("invreq", "field"),
    [
        (InvreqFields(amount=1, payer_id=flow.PAYER.public_key.format()), 0),
        (InvreqFields(metadata=b"m", amount=1), 88),
        (InvreqFields(metadata=b"m", payer_id=flow.PAYER.public_key.format()), 82),
        (
            InvreqFields(
                metadata=b"m", amount=1, quantity=2, payer_id=flow.PAYER.public_key.format()
            ),
            86,
        ),
        (
            InvreqFields(
                metadata=b"m", amount=1, features=b"\x01", payer_id=flow.PAYER.public_key.format()
            ),
            84,
        ),
    ],
)
def test_invoice_request_reader_rules(invreq: InvreqFields, field: int) -> None:
    with pytest.raises(InvalidField) as caught:
        InvoiceRequest.build(OFFER, invreq, flow.PAYER)
    assert caught.value.tlv_type == field


def test_amount_below_offer_amount_and_bad_signatures_are_rejected() -> None:
    fixed = Offer.build(dataclasses.replace(OFFER.offer, amount=50_000))
    with pytest.raises(InvalidField, match="below"):
        flow.make_request(fixed, amount=49_999)
    wrong_signer = [(t, v) for t, v in REQUEST.records if t != 240]
    forged = encode_stream(merge_records(wrong_signer, [(240, bytes(64))]))
    with pytest.raises(InvalidField, match="signature"):
        InvoiceRequest.from_bytes(forged)


def test_invoice_reader_rules() -> None:
    unsigned = [(t, v) for t, v in INVOICE.records if t not in (240, 162)]
    with pytest.raises(InvalidField) as caught:
        Invoice.from_bytes(encode_stream(merge_records(unsigned, [(240, bytes(64))])))
    assert caught.value.tlv_type == 162


def test_offer_without_issuer_and_paths_is_rejected() -> None:
    with pytest.raises(InvalidField):
        Offer.build(OfferFields(description="x"))
    expired = Offer.build(
        OfferFields(description="x", absolute_expiry=10, issuer_id=flow.NODE.public_key.format())
    )
    with pytest.raises(InvalidField, match="expired"):
        rules.check_offer_current(expired.offer, now=11, chains=[rules.BITCOIN_CHAIN])
    rules.check_offer_current(expired.offer, now=10, chains=[rules.BITCOIN_CHAIN])


def test_invoice_error_round_trip() -> None:
    error = InvoiceError.build(InvoiceErrorFields(erroneous_field=82, error="amount too low"))
    assert InvoiceError.from_bytes(error.to_bytes()) == error
    with pytest.raises(ValueError, match="erroneous_field"):
        InvoiceError.build(InvoiceErrorFields(suggested_value=b"\x01"))


_DECODERS = [
    Offer.from_bytes,
    InvoiceRequest.from_bytes,
    Invoice.from_bytes,
    InvoiceError.from_bytes,
    OnionMessagePayload.decode,
    OnionMessage.from_payload,
    EncryptedData.decode,
    Init.from_payload,
]
_SAMPLES = [
    OFFER.to_bytes(),
    REQUEST.to_bytes(),
    INVOICE.to_bytes(),
    b"\x00\x00\x00\x05\x80\x00\x00\x00\x02\x01\x20" + bytes(32),
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_SAMPLES), st.data())
def test_mutated_messages_raise_only_decode_errors(sample: bytes, data: st.DataObject) -> None:
    mutated = bytearray(sample)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        position = data.draw(st.integers(0, max(len(mutated) - 1, 0)))
        if op == "flip" and mutated:
            mutated[position] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "cut":
            del mutated[position:]
        else:
            mutated[position:position] = data.draw(st.binary(min_size=1, max_size=4))
    for decode in _DECODERS:
        with contextlib.suppress(DecodeError):
            decode(bytes(mutated))


@settings(max_examples=50, deadline=None)
@given(
    st.text(max_size=40),
    st.integers(1, 2**40),
    st.one_of(st.none(), st.text(max_size=20)),
    st.lists(st.binary(max_size=10), max_size=3),
)
def test_message_round_trips(
    description: str, amount: int, note: str | None, odd: list[bytes]
) -> None:
    extra = [(1_000_000_001 + 2 * i, value) for i, value in enumerate(odd)]
    offer = Offer.build(dataclasses.replace(OFFER.offer, description=description), extra)
    assert Offer.decode(offer.encode()) == offer
    assert set(extra) <= set(offer.records)
    request = flow.make_request(offer, amount=amount, note=note)
    assert InvoiceRequest.from_bytes(request.to_bytes()) == request
    invoice = flow.make_invoice(request)
    assert Invoice.from_bytes(invoice.to_bytes()) == invoice
    assert invoice.matches_request(request)
    error = InvoiceError.build(InvoiceErrorFields(error=description))
    assert InvoiceError.from_bytes(error.to_bytes()) == error


def test_seed_file_rules(tmp_path: Path) -> None:
    path = tmp_path / "seed"
    path.write_text(flow.SEED.hex() + "\n")
    path.chmod(0o600)
    assert keys.load_seed(path) == flow.SEED
    path.chmod(0o640)
    with pytest.raises(ConfigError, match="group or others"):
        keys.load_seed(path)
    path.write_text("zz")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="64 hex"):
        keys.load_seed(path)
    with pytest.raises(ConfigError, match="cannot read"):
        keys.load_seed(tmp_path / "missing")
