"""Typed views of the Bolt12 TLV fields: offer (1-79), invreq (0, 80-159), invoice (160-239).

Each group is a frozen dataclass whose attributes are the spec names without their prefix
(``offer_amount`` -> ``OfferFields.amount``). A table maps TLV types to codecs; parsing
fills a dataclass from records and building turns one back into records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from switchgeard.bolt12.paths import (
    BlindedPath,
    BlindedPayInfo,
    check_point,
    decode_blinded_paths,
    decode_payinfos,
    encode_blinded_paths,
    encode_payinfos,
)
from switchgeard.bolt12.tlv import Record
from switchgeard.bolt12.wire import Reader, decode_tu, encode_tu
from switchgeard.errors import DecodeError

_BIP353_CHARS = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.")


class InvalidField(DecodeError):
    """A Bolt12 message breaks a reader rule. ``tlv_type`` names the field when one applies."""

    def __init__(self, message: str, *, tlv_type: int | None = None) -> None:
        self.tlv_type = tlv_type
        self.reason = message
        super().__init__(message)


def _utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError(f"{what}: invalid UTF-8") from None


def _hash32(data: bytes, what: str) -> bytes:
    if len(data) != 32:
        raise DecodeError(f"{what}: expected 32 bytes, got {len(data)}")
    return data


def _chains(data: bytes, what: str) -> tuple[bytes, ...]:
    if not data or len(data) % 32:
        raise DecodeError(f"{what}: length {len(data)} is not a non-zero multiple of 32")
    return tuple(data[i : i + 32] for i in range(0, len(data), 32))


def _fallbacks(data: bytes, what: str) -> tuple[tuple[int, bytes], ...]:
    reader = Reader(data)
    out = []
    while not reader.at_end():
        version = reader.u8(f"{what} version")
        out.append((version, reader.read(reader.u16(f"{what} len"), f"{what} address")))
    return tuple(out)


def _encode_fallbacks(value: tuple[tuple[int, bytes], ...]) -> bytes:
    return b"".join(bytes([v]) + len(a).to_bytes(2, "big") + a for v, a in value)


def _bip353(data: bytes, what: str) -> tuple[str, str]:
    reader = Reader(data)
    name = reader.read(reader.u8(f"{what} name_len"), f"{what} name")
    domain = reader.read(reader.u8(f"{what} domain_len"), f"{what} domain")
    reader.finish(what)
    if not set(name + domain) <= _BIP353_CHARS:
        raise DecodeError(f"{what}: name or domain has characters outside [0-9a-zA-Z._-]")
    return name.decode(), domain.decode()


def _encode_bip353(value: tuple[str, str]) -> bytes:
    name, domain = (part.encode() for part in value)
    return bytes([len(name)]) + name + bytes([len(domain)]) + domain


@dataclass(frozen=True, slots=True)
class _Codec:
    decode: Callable[[bytes, str], Any]
    encode: Callable[[Any], bytes]


_RAW = _Codec(lambda data, what: data, bytes)
_UTF8 = _Codec(_utf8, str.encode)
_TU64 = _Codec(lambda data, what: decode_tu(data, 8, what), encode_tu)
_TU32 = _Codec(lambda data, what: decode_tu(data, 4, what), lambda v: encode_tu(v, 4))
_POINT = _Codec(check_point, bytes)
_HASH = _Codec(_hash32, bytes)
_CHAINS = _Codec(_chains, b"".join)
_PATHS = _Codec(decode_blinded_paths, encode_blinded_paths)
_PAYINFO = _Codec(decode_payinfos, encode_payinfos)
_FALLBACKS = _Codec(_fallbacks, _encode_fallbacks)
_BIP353 = _Codec(_bip353, _encode_bip353)


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferFields:
    """``offer_*`` fields (types 2-22). Every field is optional on the wire."""

    chains: tuple[bytes, ...] | None = None
    metadata: bytes | None = None
    currency: str | None = None
    amount: int | None = None
    description: str | None = None
    features: bytes | None = None
    absolute_expiry: int | None = None
    paths: tuple[BlindedPath, ...] | None = None
    issuer: str | None = None
    quantity_max: int | None = None
    issuer_id: bytes | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvreqFields:
    """``invreq_*`` fields (types 0 and 80-91)."""

    metadata: bytes | None = None
    chain: bytes | None = None
    amount: int | None = None
    features: bytes | None = None
    quantity: int | None = None
    payer_id: bytes | None = None
    payer_note: str | None = None
    paths: tuple[BlindedPath, ...] | None = None
    bip_353_name: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceFields:
    """``invoice_*`` fields (types 160-176)."""

    paths: tuple[BlindedPath, ...] | None = None
    blindedpay: tuple[BlindedPayInfo, ...] | None = None
    created_at: int | None = None
    relative_expiry: int | None = None
    payment_hash: bytes | None = None
    amount: int | None = None
    fallbacks: tuple[tuple[int, bytes], ...] | None = None
    features: bytes | None = None
    node_id: bytes | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceErrorFields:
    """``invoice_error`` fields (types 1, 3, 5)."""

    erroneous_field: int | None = None
    suggested_value: bytes | None = None
    error: str | None = None


_Table = dict[int, tuple[str, str, _Codec]]

OFFER_TABLE: _Table = {
    2: ("chains", "offer_chains", _CHAINS),
    4: ("metadata", "offer_metadata", _RAW),
    6: ("currency", "offer_currency", _UTF8),
    8: ("amount", "offer_amount", _TU64),
    10: ("description", "offer_description", _UTF8),
    12: ("features", "offer_features", _RAW),
    14: ("absolute_expiry", "offer_absolute_expiry", _TU64),
    16: ("paths", "offer_paths", _PATHS),
    18: ("issuer", "offer_issuer", _UTF8),
    20: ("quantity_max", "offer_quantity_max", _TU64),
    22: ("issuer_id", "offer_issuer_id", _POINT),
}
INVREQ_TABLE: _Table = {
    0: ("metadata", "invreq_metadata", _RAW),
    80: ("chain", "invreq_chain", _HASH),
    82: ("amount", "invreq_amount", _TU64),
    84: ("features", "invreq_features", _RAW),
    86: ("quantity", "invreq_quantity", _TU64),
    88: ("payer_id", "invreq_payer_id", _POINT),
    89: ("payer_note", "invreq_payer_note", _UTF8),
    90: ("paths", "invreq_paths", _PATHS),
    91: ("bip_353_name", "invreq_bip_353_name", _BIP353),
}
INVOICE_TABLE: _Table = {
    160: ("paths", "invoice_paths", _PATHS),
    162: ("blindedpay", "invoice_blindedpay", _PAYINFO),
    164: ("created_at", "invoice_created_at", _TU64),
    166: ("relative_expiry", "invoice_relative_expiry", _TU32),
    168: ("payment_hash", "invoice_payment_hash", _HASH),
    170: ("amount", "invoice_amount", _TU64),
    172: ("fallbacks", "invoice_fallbacks", _FALLBACKS),
    174: ("features", "invoice_features", _RAW),
    176: ("node_id", "invoice_node_id", _POINT),
}
INVOICE_ERROR_TABLE: _Table = {
    1: ("erroneous_field", "erroneous_field", _TU64),
    3: ("suggested_value", "suggested_value", _RAW),
    5: ("error", "error", _UTF8),
}

_G = TypeVar("_G")


def parse_group(records: Iterable[Record], table: _Table, group: type[_G]) -> _G:
    """Fill ``group`` from the records whose type is in ``table``."""
    values: dict[str, Any] = {}
    for tlv_type, value in records:
        entry = table.get(tlv_type)
        if entry is not None:
            name, wire_name, codec = entry
            values[name] = codec.decode(value, wire_name)
    return group(**values)


def group_records(fields: object, table: _Table) -> list[Record]:
    """The records for every field of ``fields`` that is not None."""
    records = []
    for tlv_type, (name, _, codec) in table.items():
        value = getattr(fields, name)
        if value is not None:
            records.append((tlv_type, codec.encode(value)))
    return records
