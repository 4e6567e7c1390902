"""LNURL strings and terminal QR codes for ``offer create`` (bech32 per BIP-173, no length cap)."""

from __future__ import annotations

import io
from typing import IO

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_GENERATOR):
            if (top >> i) & 1:
                checksum ^= generator
    return checksum


def _to_5bit(data: bytes) -> list[int]:
    acc = bits = 0
    out = []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out


def encode_lnurl(url: str) -> str:
    """``url`` as an upper-case LUD-01 LNURL (bech32, human-readable part ``lnurl``)."""
    hrp = "lnurl"
    data = _to_5bit(url.encode())
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    polymod = _polymod(expanded + data + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return (hrp + "1" + "".join(_CHARSET[d] for d in data + checksum)).upper()


def print_qr(text: str, stream: IO[str]) -> None:
    """A QR code of ``text`` drawn with Unicode half blocks (two modules per character)."""
    import segno

    drawn = io.StringIO()
    segno.make(text, error="m", boost_error=False).terminal(out=drawn, compact=True, border=2)
    stream.write(drawn.getvalue())
