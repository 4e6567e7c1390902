"""A BOLT 11 invoice decoder: bech32 (no length cap), amounts, tagged fields, signatures.

``decode_invoice(text)`` returns a ``DecodedInvoice`` or raises ``DecodeError`` naming
what is wrong. It follows the reader requirements of BOLT 11: the checksum, the amount
and its multiplier (``p`` amounts must end in 0), exactly one ``p`` and ``s``, exactly
one of ``d``/``h``, unknown even feature bits rejected, and the signature checked: with
``n`` the signer must equal ``n`` and S must be low; without it the payee is recovered.

Every invoice a node returns passes through here, so the words stay base-32 digits
(``bech32.split_digits``) and each field is one ``int(..., 32)`` call, not a loop.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import coincurve

from switchgeard.bech32 import split_digits as bech32_split_digits
from switchgeard.errors import DecodeError
from switchgeard.units import MSAT_PER_BTC, Msat, NodeKey

_BASE32_DIGIT = bytes.maketrans(bytes(range(32)), b"0123456789abcdefghijklmnopqrstuv")
"""5-bit word values → the digits ``int(text, 32)`` reads."""
_WORD_OF_DIGIT = bytes.maketrans(b"0123456789abcdefghijklmnopqrstuv", bytes(range(32)))
_HRP = re.compile(r"^ln(bcrt|bc|tbs|tb)(?:([0-9]+)([munp]?))?$")
_MULTIPLIER_MSAT = {"": MSAT_PER_BTC, "m": 10**8, "u": 10**5, "n": 100}
_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_SIGNATURE_WORDS = 104  # 520 bits: 64-byte R||S and a recovery id
_TIMESTAMP_WORDS = 7
_HASH_WORDS = 52  # 256 bits and 4 bits of padding: p, s and h
_PUBKEY_WORDS = 53  # 264 bits and 1 bit of padding: n

KNOWN_FEATURES = frozenset({8, 9, 14, 15, 16, 17, 24, 25, 30, 31, 48, 49})
"""Invoice feature bits we understand: var_onion_optin, payment_secret, basic_mpp,
route_blinding, lnd's AMP (30/31) and payment_metadata. Unknown even bits are fatal."""

DEFAULT_EXPIRY = 3600
DEFAULT_MIN_FINAL_CLTV = 18


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteHop:
    """One entry of an ``r`` field: a private channel hop towards the payee."""

    pubkey: str
    short_channel_id: int
    fee_base_msat: int
    fee_proportional_millionths: int
    cltv_expiry_delta: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodedInvoice:
    """The fields of a decoded BOLT 11 invoice; hashes and keys are lowercase hex."""

    currency: str
    """``bc``, ``tb``, ``tbs`` or ``bcrt``."""
    amount_msat: Msat | None
    timestamp: int
    payment_hash: str
    payment_secret: str
    description: str | None
    description_hash: str | None
    payee: NodeKey
    expiry: int = DEFAULT_EXPIRY
    min_final_cltv_expiry: int = DEFAULT_MIN_FINAL_CLTV
    features: frozenset[int] = frozenset()
    metadata: bytes | None = None
    fallbacks: tuple[tuple[int, bytes], ...] = ()
    routes: tuple[tuple[RouteHop, ...], ...] = ()

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp + self.expiry, tz=UTC)


def words_to_bytes(words: list[int], *, pad: bool = False) -> bytes:
    """Regroup 5-bit words into bytes. Without ``pad``, leftover bits must be zero."""
    return _digits_to_bytes(bytes(words).translate(_BASE32_DIGIT), pad=pad)


def words_to_int(words: list[int]) -> int:
    """The big-endian number the 5-bit ``words`` spell (0 for none)."""
    return _digits_to_int(bytes(words).translate(_BASE32_DIGIT))


def _digits_to_bytes(digits: bytes, *, pad: bool = False) -> bytes:
    """``words_to_bytes`` for words given as base-32 digits (see ``bech32.split_digits``)."""
    bits = len(digits) * 5
    number = int(digits, 32) if digits else 0
    if pad:
        return (number << (-bits % 8)).to_bytes(-(-bits // 8), "big")
    leftover = bits % 8
    if number & ((1 << leftover) - 1):
        raise DecodeError("non-zero padding bits")
    return (number >> leftover).to_bytes(bits // 8, "big")


def _digits_to_int(digits: bytes) -> int:
    return int(digits, 32) if digits else 0  # int() refuses b""


def parse_hrp(hrp: str) -> tuple[str, Msat | None]:
    """Return (currency, amount) from ``ln<currency><amount><multiplier>``."""
    match = _HRP.match(hrp)
    if match is None:
        raise DecodeError(f"invoice: unknown prefix or invalid amount in {hrp!r}")
    currency, digits, multiplier = match.groups()
    if digits is None:
        return currency, None
    number = int(digits)
    if multiplier == "p":
        if number % 10:
            raise DecodeError("invoice: pico amount with sub-millisatoshi precision")
        return currency, Msat(number // 10)
    return currency, Msat(number * _MULTIPLIER_MSAT[multiplier])


def decode_invoice(text: str) -> DecodedInvoice:
    """Decode and verify a BOLT 11 invoice; raise ``DecodeError`` on any violation."""
    hrp, digits = bech32_split_digits(text.strip())  # words as digits: one int() per field
    currency, amount = parse_hrp(hrp)
    if len(digits) < _TIMESTAMP_WORDS + _SIGNATURE_WORDS:
        raise DecodeError("invoice: too short")
    body = digits[:-_SIGNATURE_WORDS]
    signature = int(digits[-_SIGNATURE_WORDS:], 32).to_bytes(65, "big")  # 520 bits, no padding
    fields = _read_fields(body[_TIMESTAMP_WORDS:])
    digest = hashlib.sha256(hrp.encode() + _digits_to_bytes(body, pad=True)).digest()
    payee = _check_signature(signature, digest, fields.payee)
    return fields.build(currency, amount, int(body[:_TIMESTAMP_WORDS], 32), payee)


@dataclass(slots=True)
class _Fields:
    payment_hash: bytes | None = None
    payment_secret: bytes | None = None
    description: str | None = None
    description_hash: bytes | None = None
    payee: bytes | None = None
    expiry: int | None = None
    min_final_cltv: int | None = None
    features: frozenset[int] | None = None
    metadata: bytes | None = None
    fallbacks: tuple[tuple[int, bytes], ...] = ()
    routes: tuple[tuple[RouteHop, ...], ...] = ()
    descriptions: int = 0

    def build(
        self, currency: str, amount: Msat | None, timestamp: int, payee: NodeKey
    ) -> DecodedInvoice:
        if self.payment_hash is None:
            raise DecodeError("invoice: missing payment hash (p)")
        if self.payment_secret is None:
            raise DecodeError("invoice: missing payment secret (s)")
        if self.descriptions != 1:
            raise DecodeError("invoice: needs exactly one of description (d) or hash (h)")
        if self.features and not self.features <= KNOWN_FEATURES:
            _check_unknown_features(self.features)
        return DecodedInvoice(
            currency=currency,
            amount_msat=amount,
            timestamp=timestamp,
            payment_hash=self.payment_hash.hex(),
            payment_secret=self.payment_secret.hex(),
            description=self.description,
            description_hash=None if self.description_hash is None else self.description_hash.hex(),
            payee=payee,
            expiry=DEFAULT_EXPIRY if self.expiry is None else self.expiry,
            min_final_cltv_expiry=(
                DEFAULT_MIN_FINAL_CLTV if self.min_final_cltv is None else self.min_final_cltv
            ),
            features=self.features or frozenset(),
            metadata=self.metadata,
            fallbacks=self.fallbacks,
            routes=self.routes,
        )


def _check_unknown_features(features: frozenset[int]) -> None:
    unknown_even = {bit for bit in features if bit % 2 == 0} - KNOWN_FEATURES
    if unknown_even:
        raise DecodeError(f"invoice: unknown required feature bits {sorted(unknown_even)}")


def _read_fields(digits: bytes) -> _Fields:
    """The tagged fields of ``digits`` (words as base-32 digits, timestamp removed)."""
    fields = _Fields()
    words = digits.translate(_WORD_OF_DIGIT)  # the tags and lengths, as numbers
    end = len(words)
    position = 0
    while position < end:
        if position + 3 > end:
            raise DecodeError("invoice: truncated tagged field")
        reader = _FIELD_READERS.get(words[position])
        start = position + 3
        position = start + words[position + 1] * 32 + words[position + 2]
        if position > end:
            raise DecodeError("invoice: tagged field longer than the invoice")
        if reader is not None:
            reader(fields, digits[start:position])
    return fields


def _fixed_bytes(data: bytes, length: int) -> bytes | None:
    """The bytes of a fixed-length field, or None when its length is wrong: such fields
    are skipped, as the BOLT 11 examples show."""
    return _digits_to_bytes(data) if len(data) == length else None


def _minimal_int(data: bytes, tag: str) -> int:
    if data[:1] == b"0":
        raise DecodeError(f"invoice: field {tag} has a non-minimal length")
    return _digits_to_int(data)


def _read_payment_hash(fields: _Fields, data: bytes) -> None:
    value = _fixed_bytes(data, _HASH_WORDS)
    if value is not None and fields.payment_hash is None:
        fields.payment_hash = value


def _read_payment_secret(fields: _Fields, data: bytes) -> None:
    value = _fixed_bytes(data, _HASH_WORDS)
    if value is not None and fields.payment_secret is None:
        fields.payment_secret = value


def _read_payee(fields: _Fields, data: bytes) -> None:
    value = _fixed_bytes(data, _PUBKEY_WORDS)
    if value is not None and fields.payee is None:
        fields.payee = value


def _read_description(fields: _Fields, data: bytes) -> None:
    if fields.description is None and fields.description_hash is None:
        try:
            fields.description = _digits_to_bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError("invoice: description is not UTF-8") from exc
    fields.descriptions += 1


def _read_description_hash(fields: _Fields, data: bytes) -> None:
    value = _fixed_bytes(data, _HASH_WORDS)
    if value is None:
        return
    if fields.description_hash is None and fields.description is None:
        fields.description_hash = value
    fields.descriptions += 1


def _read_expiry(fields: _Fields, data: bytes) -> None:
    value = _minimal_int(data, "x")
    if fields.expiry is None:
        fields.expiry = value


def _read_min_final_cltv(fields: _Fields, data: bytes) -> None:
    value = _minimal_int(data, "c")
    if fields.min_final_cltv is None:
        fields.min_final_cltv = value


def _read_features(fields: _Fields, data: bytes) -> None:
    number = _minimal_int(data, "9")
    if fields.features is None:
        fields.features = _set_bits(number)


def _set_bits(number: int) -> frozenset[int]:
    """The positions of ``number``'s one bits, visiting only those (features are sparse)."""
    bits = []
    while number:
        lowest = number & -number
        bits.append(lowest.bit_length() - 1)
        number ^= lowest
    return frozenset(bits)


def _read_metadata(fields: _Fields, data: bytes) -> None:
    if fields.metadata is None:
        fields.metadata = _digits_to_bytes(data)


def _read_fallback(fields: _Fields, data: bytes) -> None:
    version = _digits_to_int(data[:1])
    if data and version <= 18:  # higher versions are unknown and skipped
        fields.fallbacks += ((version, _digits_to_bytes(data[1:])),)


def _read_route_hint(fields: _Fields, data: bytes) -> None:
    fields.routes += (_route(_digits_to_bytes(data)),)


_FIELD_READERS: dict[int, Callable[[_Fields, bytes], None]] = {
    1: _read_payment_hash,  # p
    16: _read_payment_secret,  # s
    19: _read_payee,  # n
    13: _read_description,  # d
    23: _read_description_hash,  # h
    6: _read_expiry,  # x
    24: _read_min_final_cltv,  # c
    5: _read_features,  # 9
    27: _read_metadata,  # m
    9: _read_fallback,  # f
    3: _read_route_hint,  # r
}
"""Tagged-field readers by tag word; unknown tags are skipped. A repeated field keeps its
first value."""


def _route(raw: bytes) -> tuple[RouteHop, ...]:
    hop_size = 33 + 8 + 4 + 4 + 2
    if not raw or len(raw) % hop_size:
        raise DecodeError("invoice: malformed route hint (r)")
    hops = []
    for start in range(0, len(raw), hop_size):
        hop = raw[start : start + hop_size]
        hops.append(
            RouteHop(
                pubkey=hop[:33].hex(),
                short_channel_id=int.from_bytes(hop[33:41], "big"),
                fee_base_msat=int.from_bytes(hop[41:45], "big"),
                fee_proportional_millionths=int.from_bytes(hop[45:49], "big"),
                cltv_expiry_delta=int.from_bytes(hop[49:51], "big"),
            )
        )
    return tuple(hops)


def _check_signature(signature: bytes, digest: bytes, payee: bytes | None) -> NodeKey:
    if signature[64] > 3:
        raise DecodeError("invoice: invalid signature recovery id")
    s_value = int.from_bytes(signature[32:64], "big")
    if s_value > _SECP256K1_ORDER // 2:
        if payee is not None:
            raise DecodeError("invoice: high-S signature with an explicit payee (n)")
        # Readers must accept high-S when recovering: normalise S, keep the recovery id.
        low_s = (_SECP256K1_ORDER - s_value).to_bytes(32, "big")
        signature = signature[:32] + low_s + signature[64:]
    try:
        recovered = coincurve.PublicKey.from_signature_and_message(signature, digest, hasher=None)
    except (ValueError, TypeError) as exc:
        raise DecodeError("invoice: signature is not recoverable") from exc
    key = recovered.format(compressed=True)
    if payee is not None and key != payee:
        raise DecodeError("invoice: signature does not match the payee (n)")
    return NodeKey(key.hex())
