"""LNURLs (LUD-01): URLs as Bech32 under ``lnurl``, without the 90-character segwit limit.

LNURLs are plain URLs encoded as 5-bit words under the human-readable part ``lnurl``;
real ones are often 150+ characters, so the length cap of segwit addresses does not apply.
"""

from __future__ import annotations

from switchgeard import bech32
from switchgeard.errors import DecodeError


def encode_lnurl(url: str) -> str:
    """The LNURL of ``url``: Bech32 under ``lnurl``, uppercase as QR codes prefer (LUD-01)."""
    return bech32.encode("lnurl", url.encode("utf-8")).upper()


def decode_lnurl(lnurl: str) -> str:
    """The URL inside an LNURL; raises ``DecodeError`` if it is not one."""
    hrp, data = bech32.decode(lnurl.strip())
    if hrp != "lnurl":
        raise DecodeError(f"bech32: prefix is {hrp!r}, not 'lnurl'")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("bech32: the LNURL does not hold UTF-8 text") from None
