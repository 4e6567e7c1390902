"""A BOLT 11 encoder for the fake nodes: real, signed invoices from a node key.

Fault switches of the fakes bend exactly one property (amount, description hash, payment
secret, signer, network) so tests can prove the adapter's validator catches each.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import coincurve

from switchgeard.bech32 import CHARSET
from switchgeard.bech32 import hrp_expand as bech32_hrp_expand
from switchgeard.bech32 import polymod as bech32_polymod
from switchgeard.units import MSAT_PER_BTC

_TAGS = {"p": 1, "s": 16, "d": 13, "h": 23, "n": 19, "x": 6, "c": 24, "9": 5, "m": 27}
_FEATURES = (9, 14, 16)
"""var_onion_optin (optional), payment_secret (required), basic_mpp (required)."""


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
    words = _int_words(request.timestamp, 7)
    words += _field("p", _bytes_words(request.payment_hash))
    if request.payment_secret is not None:
        words += _field("s", _bytes_words(request.payment_secret))
    if request.description_hash is not None:
        words += _field("h", _bytes_words(request.description_hash))
    else:
        words += _field("d", _bytes_words(request.description.encode()))
    words += _field("x", _int_words(request.expiry))
    words += _field("c", _int_words(request.min_final_cltv_expiry))
    words += _field("9", _int_words(sum(1 << bit for bit in request.features)))
    message = hrp.encode() + _words_bytes(words)
    signature = private_key.sign_recoverable(hashlib.sha256(message).digest(), hasher=None)
    words += _bytes_words(signature)
    checksum = bech32_polymod([*bech32_hrp_expand(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ 1
    words += [(checksum >> 5 * (5 - index)) & 31 for index in range(6)]
    return hrp + "1" + "".join(CHARSET[word] for word in words)


def _amount_text(amount_msat: int | None) -> str:
    if amount_msat is None:
        return ""
    for multiplier, unit in (("", MSAT_PER_BTC), ("m", 10**8), ("u", 10**5), ("n", 100)):
        if amount_msat % unit == 0:
            return f"{amount_msat // unit}{multiplier}"
    return f"{amount_msat * 10}p"


def _field(tag: str, data: list[int]) -> list[int]:
    return [_TAGS[tag], len(data) >> 5, len(data) & 31, *data]


def _int_words(number: int, width: int = 0) -> list[int]:
    words = []
    while number:
        words.append(number & 31)
        number >>= 5
    words.extend([0] * (width - len(words)))
    return words[::-1]


def _bytes_words(data: bytes) -> list[int]:
    bits = len(data) * 8
    number = int.from_bytes(data, "big") << (-bits % 5)
    return _int_words(number, -(-bits // 5))


def _words_bytes(words: list[int]) -> bytes:
    bits = len(words) * 5
    number = 0
    for word in words:
        number = number << 5 | word
    number <<= -bits % 8
    return number.to_bytes(-(-bits // 8), "big")
