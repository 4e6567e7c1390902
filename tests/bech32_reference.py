"""Plain, word-by-word bech32 pieces (BIP-173) that the fast code is checked against.

Written as the specification reads, one value and one bit at a time, so a property test
comparing them with ``switchgeard.bech32`` or the BOLT 11 encoder and decoder compares
two independent implementations.
"""

from __future__ import annotations

GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def reference_polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for bit in range(5):
            if top >> bit & 1:
                checksum ^= GENERATOR[bit]
    return checksum


def expand(hrp: str) -> list[int]:
    return [ord(char) >> 5 for char in hrp] + [0] + [ord(char) & 31 for char in hrp]


def reference_bytes(words: list[int], *, pad: bool = False) -> bytes | None:
    """The bytes of 5-bit ``words``; None where an unpadded conversion must fail (non-zero
    leftover bits)."""
    accumulator = bits = 0
    out = bytearray()
    for word in words:
        accumulator = accumulator << 5 | word
        bits += 5
        while bits >= 8:
            bits -= 8
            out.append(accumulator >> bits & 0xFF)
    if pad and bits:
        out.append(accumulator << (8 - bits) & 0xFF)
    elif not pad and accumulator & ((1 << bits) - 1):
        return None
    return bytes(out)
