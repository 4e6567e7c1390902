"""LNURL strings and terminal QR codes for ``offer create`` (bech32 per BIP-173, no length cap)."""

from __future__ import annotations

import io
from typing import IO

from switchgeard import bech32


def encode_lnurl(url: str) -> str:
    """``url`` as an upper-case LUD-01 LNURL (bech32, human-readable part ``lnurl``)."""
    return bech32.encode("lnurl", url.encode()).upper()


def print_qr(text: str, stream: IO[str]) -> None:
    """A QR code of ``text`` drawn with Unicode half blocks (two modules per character)."""
    import segno

    drawn = io.StringIO()
    segno.make(text, error="m", boost_error=False).terminal(out=drawn, compact=True, border=2)
    stream.write(drawn.getvalue())
