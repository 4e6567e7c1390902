"""A BOLT 11 encoder for the fake nodes: real, signed invoices from a node key.

Fault switches of the fakes bend exactly one property (amount, description hash, payment
secret, signer, network) so tests can prove the adapter's validator catches each.

The fakes sign an invoice per AddInvoice, so nothing takes a Python step per 5-bit word:
the data part is one integer whose base-32 digits are the words (fields are shifted in
whole), the signed bytes are that integer's bytes, its characters come two words per
table lookup, and the constant fields are built once. ``tests/testing/test_invoices.py``
holds the result to a plain word-by-word encoder, byte for byte.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache, lru_cache

import coincurve

from switchgeard.bech32 import CHARSET
from switchgeard.bech32 import hrp_expand as bech32_hrp_expand
from switchgeard.bech32 import polymod as bech32_polymod
from switchgeard.units import MSAT_PER_BTC

_TAGS = {"p": 1, "s": 16, "d": 13, "h": 23, "x": 6, "c": 24, "9": 5}
_FEATURES = (9, 14, 16)
"""var_onion_optin (optional), payment_secret (required), basic_mpp (required)."""
_MAX_FIELD_WORDS = 1023
"""A tagged field's length is two words."""

_CHARS = CHARSET.encode()
_PAIRS = [bytes((high, low)) for high in _CHARS for low in _CHARS]
"""Two words, as a 10-bit number → their two characters."""
_TO_WORDS = bytes.maketrans(_CHARS, bytes(range(32)))

Words = tuple[int, int]
"""A run of words as ``(value, count)``: ``value``'s base-32 digits, ``count`` of them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceRequest:
    """What to put into an invoice. ``description_hash`` wins over ``description``."""

    currency: str
    amount_msat: int | None
    payment_hash: bytes
    payment_secret: bytes | None
    description: str = ""
    description_hash: bytes | None = None
    expiry: int = 3600
    min_final_cltv_expiry: int = 80
    timestamp: int
    features: tuple[int, ...] = _FEATURES


def encode_invoice(request: InvoiceRequest, private_key: coincurve.PrivateKey) -> str:
    """Return the bech32 BOLT 11 string for ``request``, signed with ``private_key``."""
    hrp = "ln" + request.currency + _amount_text(request.amount_msat)
    value, count = _data_words(request)
    bits = 5 * count
    message = hrp.encode() + (value << (-bits % 8)).to_bytes(-(-bits // 8), "big")
    signature = private_key.sign_recoverable(hashlib.sha256(message).digest(), hasher=None)
    data = _chars(value, count) + _chars(*_bytes_words(signature))
    return hrp + "1" + (data + _checksum_chars(hrp, data)).decode()


def _data_words(request: InvoiceRequest) -> Words:
    """The timestamp and the tagged fields."""
    if not 0 <= request.timestamp < 1 << 35:
        raise ValueError(f"BOLT 11 timestamp {request.timestamp} does not fit 7 words")
    parts = [(request.timestamp, 7), _field("p", _bytes_words(request.payment_hash))]
    if request.payment_secret is not None:
        parts.append(_field("s", _bytes_words(request.payment_secret)))
    if request.description_hash is not None:
        parts.append(_field("h", _bytes_words(request.description_hash)))
    else:
        parts.append(_field("d", _bytes_words(request.description.encode())))
    parts.append(_number_field("x", request.expiry))
    parts.append(_number_field("c", request.min_final_cltv_expiry))
    parts.append(_features_field(request.features))
    value = count = 0
    for part_value, part_count in parts:
        value = value << 5 * part_count | part_value
        count += part_count
    return value, count


def _amount_text(amount_msat: int | None) -> str:
    if amount_msat is None:
        return ""
    for multiplier, unit in (("", MSAT_PER_BTC), ("m", 10**8), ("u", 10**5), ("n", 100)):
        if amount_msat % unit == 0:
            return f"{amount_msat // unit}{multiplier}"
    return f"{amount_msat * 10}p"


def _field(tag: str, data: Words) -> Words:
    """Tag word, data length in two words, data."""
    value, count = data
    if count > _MAX_FIELD_WORDS:
        raise ValueError(f"BOLT 11 field {tag!r}: {count} words, at most {_MAX_FIELD_WORDS}")
    return (_TAGS[tag] << 10 | count) << 5 * count | value, count + 3


@lru_cache(maxsize=64)
def _number_field(tag: str, number: int) -> Words:
    """A field holding ``number`` in as few words as it takes (none for 0)."""
    return _field(tag, (number, -(-number.bit_length() // 5)))


@cache
def _features_field(features: tuple[int, ...]) -> Words:
    return _number_field("9", sum(1 << bit for bit in features))


def _bytes_words(data: bytes) -> Words:
    """``data`` regrouped into 5-bit words, the last zero-padded."""
    bits = 8 * len(data)
    return int.from_bytes(data, "big") << (-bits % 5), -(-bits // 5)


def _chars(value: int, count: int) -> bytes:
    """The ``count`` words of ``value`` as bech32 characters, two per lookup."""
    odd = count & 1
    value <<= 5 * odd
    top = 10 * ((count + odd) // 2 - 1)
    pairs = b"".join([_PAIRS[(value >> shift) & 1023] for shift in range(top, -1, -10)])
    return pairs[: len(pairs) - odd]


def _checksum_chars(hrp: str, data: bytes) -> bytes:
    words = [*bech32_hrp_expand(hrp), *data.translate(_TO_WORDS), 0, 0, 0, 0, 0, 0]
    return _chars(bech32_polymod(words) ^ 1, 6)
