"""Bech32 (BIP-173 checksum) without the 90-character segwit cap, for LNURLs and BOLT 11.

LNURLs and invoices are routinely longer than 90 characters, so only a generous bound
against hostile input applies. Standard library only: the CLI imports it too.
"""

from __future__ import annotations

from functools import reduce
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
_WORD_OF = bytes.maketrans(CHARSET.encode(), bytes(range(32)))
_DATA_CHARS = frozenset(CHARSET)


def _step(checksum: int, value: int) -> int:
    return (checksum & 0x1FFFFFF) << 5 ^ value ^ _POLYMOD_TABLE[checksum >> 25]


_POLYMOD_PAIR_TABLE = tuple(_step(_step(top << 20, 0), 0) for top in range(1024))
"""Two steps at once: what the checksum's top ten bits turn into over two zero values.
Each step is XOR-linear in the checksum and the value, so two steps of (``c``, ``a``,
``b``) are ``(c & 0xFFFFF) << 10 ^ a << 5 ^ b ^ _POLYMOD_PAIR_TABLE[c >> 20]``."""


def polymod(values: list[int]) -> int:
    """The BIP-173 checksum polynomial of ``values`` (5-bit), two values per turn: every
    invoice a node returns is checked with it."""
    checksum = 1
    pairs = iter(values)
    if len(values) % 2:
        checksum = _step(checksum, next(pairs))
    table = _POLYMOD_PAIR_TABLE
    for first, second in zip(pairs, pairs, strict=False):  # an even number left
        checksum = (checksum & 0xFFFFF) << 10 ^ first << 5 ^ second ^ table[checksum >> 20]
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
    if len(text) > MAX_LENGTH:
        raise DecodeError(f"bech32: longer than {MAX_LENGTH} characters")
    if not text.isascii():
        raise DecodeError("bech32: invalid character")
    if text.lower() != text and text.upper() != text:
        raise DecodeError("bech32: mixed case")
    text = text.lower()
    separator = text.rfind("1")
    if separator < 1 or separator + 7 > len(text):
        if text and (min(text) < "!" or max(text) > "~"):
            raise DecodeError("bech32: invalid character")
        raise DecodeError("bech32: missing separator '1' or too short")
    hrp, data = text[:separator], text[separator + 1 :]
    if min(hrp) < "!" or max(hrp) > "~":  # the data part is checked against the charset
        raise DecodeError("bech32: invalid character")
    if not _DATA_CHARS.issuperset(data):
        raise DecodeError("bech32: invalid character in the data part")
    words = list(data.encode("ascii").translate(_WORD_OF))
    if polymod(hrp_expand(hrp) + words) != 1:
        raise DecodeError("bech32: bad checksum")
    return hrp, words[:-6]


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
