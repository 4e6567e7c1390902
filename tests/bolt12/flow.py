"""Builders for the synthetic offer → invoice_request → invoice flow used by several tests."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import coincurve

from switchgeard.bolt12 import blinding, keys
from switchgeard.bolt12.fields import InvoiceFields, InvreqFields
from switchgeard.bolt12.generate import generate_offer
from switchgeard.bolt12.messages import Invoice, InvoiceRequest, Offer
from switchgeard.bolt12.onion import encode_encrypted_data
from switchgeard.bolt12.paths import BlindedPayInfo
from switchgeard.units import Msat

SEED = bytes(range(32))
NODE = coincurve.PrivateKey(b"\x55" * 32)
INTRO = coincurve.PrivateKey(b"\x66" * 32)
PAYER = coincurve.PrivateKey(b"\x77" * 32)
BACKEND = coincurve.PrivateKey(b"\x88" * 32)


_ID = uuid.UUID("0b0e0a0c-0000-4000-8000-000000000012")
_MIN, _MAX = Msat(1000), Msat(5_000_000)
_EXPIRES = datetime(2036, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    """Shaped like ``store.records.Offer`` as far as offer generation reads it."""

    partition: str = "default"
    id: uuid.UUID = _ID
    min_sendable: Msat = _MIN
    max_sendable: Msat = _MAX
    expires: datetime | None = _EXPIRES


def make_offer(row: Row | None = None) -> Offer:
    return generate_offer(
        row or Row(),
        seed=SEED,
        description="coffee",
        node_id=NODE.public_key.format(),
        introduction_nodes=[INTRO.public_key.format()],
        issuer="example.com",
    )


def make_request(offer: Offer, amount: int = 42_000, note: str | None = None) -> InvoiceRequest:
    fields = InvreqFields(
        metadata=b"\x01" * 16, amount=amount, payer_id=PAYER.public_key.format(), payer_note=note
    )
    return InvoiceRequest.build(offer, fields, PAYER, extra=[(2_000_000_001, b"unknown odd")])


def make_invoice(request: InvoiceRequest, row: Row | None = None) -> Invoice:
    row = row or Row()
    key = keys.issuer_key(SEED, row.partition, row.id)
    payment_path = blinding.blind_path(
        b"\x99" * 32,
        BACKEND.public_key.format(),
        [(BACKEND.public_key.format(), encode_encrypted_data(path_id=b"\x01" * 32))],
    )
    info = BlindedPayInfo(0, 0, 144, 1, request.invreq.amount or 1)
    fields = InvoiceFields(
        paths=(payment_path,),
        blindedpay=(info,),
        created_at=int(datetime(2030, 1, 1, tzinfo=UTC).timestamp()),
        relative_expiry=86400,
        payment_hash=hashlib.sha256(b"preimage").digest(),
        amount=request.invreq.amount,
        features=b"",
        node_id=key.public_key.format(),
    )
    return Invoice.build(request, fields, key)
