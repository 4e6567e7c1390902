"""Offer, InvoiceRequest, Invoice and InvoiceError: raw TLV records plus typed views.

``records`` is the source of truth: encoding writes exactly the records that were decoded,
so unknown odd fields round-trip byte for byte. Decoding applies the framing rules, the
field codecs and the context-free reader rules; signatures are verified on decode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import coincurve

from switchgeard.bolt12 import rules, signature
from switchgeard.bolt12.fields import (
    INVOICE_ERROR_TABLE,
    INVOICE_TABLE,
    INVREQ_TABLE,
    OFFER_TABLE,
    InvalidField,
    InvoiceErrorFields,
    InvoiceFields,
    InvreqFields,
    OfferFields,
    group_records,
    parse_group,
)
from switchgeard.bolt12.strings import decode_string, encode_string
from switchgeard.bolt12.tlv import Record, decode_stream, encode_stream, merge_records
from switchgeard.errors import DecodeError

_INVREQ_KNOWN = frozenset(OFFER_TABLE) | frozenset(INVREQ_TABLE) | {signature.SIGNATURE_TYPE}
_INVOICE_KNOWN = _INVREQ_KNOWN | frozenset(INVOICE_TABLE)


def _records(
    data: bytes, known: frozenset[int], in_range: Callable[[int], bool], what: str
) -> tuple[Record, ...]:
    records = decode_stream(data, known=known, what=what)
    if not records:
        raise DecodeError(f"{what}: empty")
    for tlv_type, _ in records:
        if not in_range(tlv_type) and not signature.is_signature_type(tlv_type):
            raise InvalidField(
                f"{what}: type {tlv_type} is outside the allowed ranges", tlv_type=tlv_type
            )
    return records


def _signature_of(records: tuple[Record, ...], what: str) -> bytes:
    value = dict(records).get(signature.SIGNATURE_TYPE)
    if value is None:
        raise InvalidField(f"{what}: signature is missing", tlv_type=signature.SIGNATURE_TYPE)
    if len(value) != signature.SIGNATURE_SIZE:
        raise DecodeError(f"{what}: signature is {len(value)} bytes, not 64")
    return value


def _text(hrp: str, text: str) -> bytes:
    found, payload = decode_string(text)
    if found != hrp:
        raise DecodeError(f"bolt12 string: expected prefix {hrp!r}, got {found!r}")
    return payload


@dataclass(frozen=True, slots=True)
class Offer:
    """A Bolt12 offer (``lno1...``)."""

    records: tuple[Record, ...]
    offer: OfferFields

    @classmethod
    def from_bytes(cls, data: bytes) -> Offer:
        """Decode and validate. Raises DecodeError (InvalidField for reader-rule breaks)."""
        records = _records(data, frozenset(OFFER_TABLE), rules.in_offer_range, "offer")
        if any(signature.is_signature_type(tlv_type) for tlv_type, _ in records):
            raise InvalidField("offer: signature types are not allowed in an offer")
        offer = parse_group(records, OFFER_TABLE, OfferFields)
        rules.check_offer(offer)
        return cls(records, offer)

    @classmethod
    def decode(cls, text: str) -> Offer:
        return cls.from_bytes(_text("lno", text))

    @classmethod
    def build(cls, offer: OfferFields, extra: Iterable[Record] = ()) -> Offer:
        """Build from typed fields plus ``extra`` raw records, validating the result."""
        return cls.from_bytes(
            encode_stream(merge_records(group_records(offer, OFFER_TABLE), extra))
        )

    def to_bytes(self) -> bytes:
        return encode_stream(self.records)

    def encode(self) -> str:
        return encode_string("lno", self.to_bytes())

    @property
    def offer_id(self) -> bytes:
        """The Merkle root of the offer's records (the offer id used by wallets)."""
        return signature.merkle_root(self.records)


@dataclass(frozen=True, slots=True)
class InvoiceRequest:
    """A signed ``invoice_request`` (``lnr1...`` or onion-message field 64)."""

    records: tuple[Record, ...]
    offer: OfferFields
    invreq: InvreqFields
    signature: bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> InvoiceRequest:
        """Decode, apply the reader rules and verify the payer signature."""
        records = _records(data, _INVREQ_KNOWN, rules.in_invreq_range, "invoice_request")
        offer = parse_group(records, OFFER_TABLE, OfferFields)
        invreq = parse_group(records, INVREQ_TABLE, InvreqFields)
        sig = _signature_of(records, "invoice_request")
        rules.check_invreq(offer, invreq)
        assert invreq.payer_id is not None
        if not signature.verify("invoice_request", records, sig, invreq.payer_id):
            raise InvalidField("invoice_request: bad signature", tlv_type=signature.SIGNATURE_TYPE)
        return cls(records, offer, invreq, sig)

    @classmethod
    def decode(cls, text: str) -> InvoiceRequest:
        return cls.from_bytes(_text("lnr", text))

    @classmethod
    def build(
        cls,
        offer: Offer,
        invreq: InvreqFields,
        payer_key: coincurve.PrivateKey,
        extra: Iterable[Record] = (),
    ) -> InvoiceRequest:
        """Build and sign a request for ``offer`` (the payer side; used by tests and tools)."""
        unsigned = merge_records(offer.records, group_records(invreq, INVREQ_TABLE), extra)
        sig = signature.sign("invoice_request", unsigned, payer_key)
        return cls.from_bytes(
            encode_stream(merge_records(unsigned, [(signature.SIGNATURE_TYPE, sig)]))
        )

    def to_bytes(self) -> bytes:
        return encode_stream(self.records)

    def encode(self) -> str:
        return encode_string("lnr", self.to_bytes())


@dataclass(frozen=True, slots=True)
class Invoice:
    """A signed Bolt12 ``invoice`` (``lni1...`` or onion-message field 66)."""

    records: tuple[Record, ...]
    offer: OfferFields
    invreq: InvreqFields
    invoice: InvoiceFields
    signature: bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> Invoice:
        """Decode, apply the reader rules and verify the signature by ``invoice_node_id``."""
        records = _records(data, _INVOICE_KNOWN, rules.in_invoice_range, "invoice")
        offer = parse_group(records, OFFER_TABLE, OfferFields)
        invreq = parse_group(records, INVREQ_TABLE, InvreqFields)
        invoice = parse_group(records, INVOICE_TABLE, InvoiceFields)
        sig = _signature_of(records, "invoice")
        rules.check_invoice(offer, invreq, invoice)
        assert invoice.node_id is not None
        if not signature.verify("invoice", records, sig, invoice.node_id):
            raise InvalidField("invoice: bad signature", tlv_type=signature.SIGNATURE_TYPE)
        return cls(records, offer, invreq, invoice, sig)

    @classmethod
    def decode(cls, text: str) -> Invoice:
        return cls.from_bytes(_text("lni", text))

    @classmethod
    def build(
        cls, request: InvoiceRequest, invoice: InvoiceFields, signing_key: coincurve.PrivateKey
    ) -> Invoice:
        """Answer ``request``: copy its non-signature records (unknown ones too), add
        ``invoice``, sign with ``signing_key`` (whose public key must be ``invoice.node_id``)."""
        copied = signature.without_signatures(request.records)
        unsigned = merge_records(copied, group_records(invoice, INVOICE_TABLE))
        sig = signature.sign("invoice", unsigned, signing_key)
        return cls.from_bytes(
            encode_stream(merge_records(unsigned, [(signature.SIGNATURE_TYPE, sig)]))
        )

    def to_bytes(self) -> bytes:
        return encode_stream(self.records)

    def encode(self) -> str:
        return encode_string("lni", self.to_bytes())

    def matches_request(self, request: InvoiceRequest) -> bool:
        """True if every invreq-range record equals the request's (reader rule)."""
        mine = [r for r in self.records if rules.in_invreq_range(r[0])]
        return mine == [r for r in request.records if rules.in_invreq_range(r[0])]


@dataclass(frozen=True, slots=True)
class InvoiceError:
    """An ``invoice_error`` (onion-message field 68)."""

    records: tuple[Record, ...]
    fields: InvoiceErrorFields

    @classmethod
    def from_bytes(cls, data: bytes) -> InvoiceError:
        records = decode_stream(data, known=frozenset(INVOICE_ERROR_TABLE), what="invoice_error")
        return cls(records, parse_group(records, INVOICE_ERROR_TABLE, InvoiceErrorFields))

    @classmethod
    def build(cls, fields: InvoiceErrorFields) -> InvoiceError:
        if fields.suggested_value is not None and fields.erroneous_field is None:
            raise ValueError("suggested_value needs erroneous_field")
        return cls.from_bytes(encode_stream(group_records(fields, INVOICE_ERROR_TABLE)))

    def to_bytes(self) -> bytes:
        return encode_stream(self.records)
