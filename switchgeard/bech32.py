"""Bech32 (BIP-173 checksum) without the 90-character segwit cap, for LNURLs and BOLT 11.

LNURLs and invoices are routinely longer than 90 characters, so only a generous bound
against hostile input applies. Standard library only: the CLI imports it too.

Every invoice a node returns is checked here, so the checksum avoids a Python loop per
word: the string becomes one big number (``int(..., 32)`` over base-32 digits) and each
of the checksum's 30 bits is the parity of that number under a fixed mask.
"""

from __future__ import annotations

from functools import cache, reduce
from operator import xor

from switchgeard.errors import DecodeError

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
MAX_LENGTH = 8192
"""Longest accepted string, so a hostile input cannot make decoding expensive."""

_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_POLYMOD_TABLE = tuple(
    reduce(xor, (g for bit, g in enumerate(_GENERATOR) if top >> bit & 1), 0) for top in range(32)
)
"""The generator terms for each value of the checksum's top five bits, XORed together."""

_DIGITS = b"0123456789abcdefghijklmnopqrstuv"
"""Word value ``w`` → ``_DIGITS[w]``, the base-32 digit ``int(..., 32)`` reads as ``w``."""
_NOT_A_DIGIT = b"!"
"""What the tables below give for bytes that are no word: ``int(..., 32)`` refuses it."""
_DIGIT_OF_CHAR = bytes(
    _DIGITS[CHARSET.index(chr(byte))] if chr(byte) in CHARSET else _NOT_A_DIGIT[0]
    for byte in range(256)
)
"""Lowercase data character → its word as a base-32 digit."""
_DIGIT_OF_WORD = _DIGITS + _NOT_A_DIGIT * (256 - 32)
"""Word value → its base-32 digit, for ``bytes.translate``."""
_WORD_OF_DIGIT = bytes.maketrans(_DIGITS, bytes(range(32)))
_HIGH_DIGIT = bytes(_DIGITS[byte >> 5] for byte in range(256))
_LOW_DIGIT = bytes(_DIGITS[byte & 31] for byte in range(256))
"""An hrp byte → the digit of its top three / low five bits (BIP-173's hrp expansion)."""


def _step(checksum: int, value: int) -> int:
    """One word through the checksum: BIP-173's definition, used to build the masks."""
    return (checksum & 0x1FFFFFF) << 5 ^ value ^ _POLYMOD_TABLE[checksum >> 25]


_PERIOD_WORDS = 1023
"""The generator divides x^1023 - 1, so a word's effect on the checksum repeats every
1023 words: slices of that many words can be XORed together before the checksum."""
_PERIOD_BITS = 5 * _PERIOD_WORDS
_PERIOD_MASK = (1 << _PERIOD_BITS) - 1


@cache
def _checksum_masks() -> tuple[int, ...]:
    """Per checksum bit, top bit first: the input bits whose parity that bit is.

    From a zero start the checksum is XOR-linear in the input bits, so each of its 30
    bits is the parity of the input ANDed with a fixed mask. The mask of checksum bit
    ``j`` has bit ``p`` set when a lone input bit ``p`` sets bit ``j``, that is when
    ``1 << p % 5`` stepped through ``p // 5`` zero words has bit ``j`` set. Built by
    stepping the five bits of a word through one period and reading the 30-bit results
    column-wise: 3-4 ms, so on first use rather than at import (the CLI imports this
    module and rarely needs a checksum).
    """
    effects = [1 << bit for bit in range(5)]
    columns: list[int] = []
    for _ in range(_PERIOD_WORDS):
        columns += effects
        effects = [_step(effect, 0) for effect in effects]
    bits = "".join([format(column, "030b") for column in reversed(columns)])
    return tuple(int(bits[row::30], 2) for row in range(30))


def _checksum_bits(number: int) -> list[int]:
    """The checksum of the words base-32 ``number`` spells after its leading 1, as bits,
    top first (comparing the list is cheaper than assembling a number).

    The leading 1 stands for the checksum's initial value, as one step from zero gives 1;
    from zero the checksum is linear, which is what ``_checksum_masks`` relies on.
    """
    while number >> _PERIOD_BITS:  # only strings longer than about 1000 characters
        number = (number & _PERIOD_MASK) ^ (number >> _PERIOD_BITS)
    return [(number & mask).bit_count() & 1 for mask in _checksum_masks()]


_VALID_CHECKSUM_BITS = [0] * 29 + [1]
"""A valid string's checksum is 1."""


def polymod(values: list[int]) -> int:
    """The BIP-173 checksum polynomial of ``values``; ``ValueError`` unless all are 0-31."""
    checksum = 0
    for bit in _checksum_bits(int(b"1" + bytes(values).translate(_DIGIT_OF_WORD), 32)):
        checksum = checksum << 1 | bit
    return checksum


def hrp_expand(hrp: str) -> list[int]:
    return [ord(char) >> 5 for char in hrp] + [0] + [ord(char) & 31 for char in hrp]


def encode_words(hrp: str, words: list[int]) -> str:
    """``hrp`` + ``1`` + the words and their checksum, lowercase."""
    check = polymod([*hrp_expand(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ 1
    tail = [(check >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[word] for word in [*words, *tail])


def split(text: str) -> tuple[str, list[int]]:
    """Check a bech32 string and return ``(hrp, words)`` without the checksum.

    Raises ``DecodeError`` on mixed case, bad characters, a missing separator or a bad
    checksum. The hrp comes back lowercase.
    """
    hrp, digits = split_digits(text)
    return hrp, list(digits.translate(_WORD_OF_DIGIT))


def split_digits(text: str) -> tuple[str, bytes]:
    """``split``, with the words as base-32 digits (``0``-``9``, ``a``-``v``), one byte each.

    ``int(digits[i:j], 32)`` is then the number words ``i`` to ``j`` spell, in one call:
    how BOLT 11 reads its fields. Raises as ``split`` does.
    """
    if len(text) > MAX_LENGTH:
        raise DecodeError(f"bech32: longer than {MAX_LENGTH} characters")
    if not text.isascii():
        raise DecodeError("bech32: invalid character")
    lower = text.lower()
    if lower != text and text.upper() != text:
        raise DecodeError("bech32: mixed case")
    text = lower
    separator = text.rfind("1")
    if separator < 1 or separator + 7 > len(text):
        if text and (min(text) < "!" or max(text) > "~"):
            raise DecodeError("bech32: invalid character")
        raise DecodeError("bech32: missing separator '1' or too short")
    hrp, data = text[:separator], text[separator + 1 :]
    if not hrp.isprintable() or " " in hrp:  # ASCII 33-126 only; the data part is
        raise DecodeError("bech32: invalid character")  # checked against the charset
    digits = data.encode("ascii").translate(_DIGIT_OF_CHAR)
    if _NOT_A_DIGIT in digits:
        raise DecodeError("bech32: invalid character in the data part")
    raw_hrp = hrp.encode("ascii")
    expanded = raw_hrp.translate(_HIGH_DIGIT) + b"0" + raw_hrp.translate(_LOW_DIGIT)
    if _checksum_bits(int(b"1" + expanded + digits, 32)) != _VALID_CHECKSUM_BITS:
        raise DecodeError("bech32: bad checksum")
    return hrp, digits[:-6]


def regroup(values: bytes | list[int], from_bits: int, to_bits: int, *, pad: bool) -> list[int]:
    """Regroup ``from_bits``-wide values into ``to_bits``-wide ones.

    With ``pad`` the last group is zero-filled; without it, leftover bits must be zero
    and fewer than ``from_bits`` (else ``DecodeError``).
    """
    acc = bits = 0
    out: list[int] = []
    mask = (1 << to_bits) - 1
    for value in values:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & mask)
    if pad and bits:
        out.append((acc << (to_bits - bits)) & mask)
    elif not pad and (bits >= from_bits or (acc << (to_bits - bits)) & mask):
        raise DecodeError("bech32: invalid padding in the data part")
    return out


def encode(hrp: str, data: bytes) -> str:
    """Encode bytes under ``hrp`` (lowercase) with the checksum; returns lowercase."""
    return encode_words(hrp, regroup(data, 8, 5, pad=True))


def decode(text: str) -> tuple[str, bytes]:
    """Decode a bech32 string into ``(hrp, data bytes)``; raises ``DecodeError``."""
    hrp, words = split(text)
    return hrp, bytes(regroup(words, 5, 8, pad=False))
