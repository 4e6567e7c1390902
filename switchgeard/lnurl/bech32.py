"""Bech32 (BIP-173 checksum) for LNURLs (LUD-01), without the 90-character segwit limit.

LNURLs are plain URLs encoded as 5-bit words under the human-readable part ``lnurl``;
real ones are often 150+ characters, so the length cap of segwit addresses does not apply.
"""

from __future__ import annotations

from switchgeard.errors import DecodeError

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_MAX_LENGTH = 8192
"""A generous bound so a hostile string cannot make decoding expensive."""


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _checksum(hrp: str, words: list[int]) -> list[int]:
    polymod = _polymod([*_hrp_expand(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ 1
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]


def _regroup(data: bytes | list[int], from_bits: int, to_bits: int, *, pad: bool) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    mask = (1 << to_bits) - 1
    for value in data:
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


def bech32_encode(hrp: str, data: bytes) -> str:
    """Encode ``data`` under ``hrp`` (lowercase) with the Bech32 checksum; returns lowercase."""
    words = _regroup(data, 8, 5, pad=True)
    return hrp + "1" + "".join(CHARSET[w] for w in [*words, *_checksum(hrp, words)])


def bech32_decode(text: str) -> tuple[str, bytes]:
    """Decode a Bech32 string into ``(hrp, data)``.

    Raises ``DecodeError`` on mixed case, bad characters, a bad checksum or bad padding.
    """
    if len(text) > _MAX_LENGTH:
        raise DecodeError(f"bech32: longer than {_MAX_LENGTH} characters")
    if text.lower() != text and text.upper() != text:
        raise DecodeError("bech32: mixed upper and lower case")
    lowered = text.lower()
    hrp, sep, rest = lowered.rpartition("1")
    if not sep or not hrp or len(rest) < 6:
        raise DecodeError("bech32: missing separator, prefix or checksum")
    if any(not 33 <= ord(c) <= 126 for c in hrp):
        raise DecodeError("bech32: invalid character in the prefix")
    try:
        words = [CHARSET.index(c) for c in rest]
    except ValueError:
        raise DecodeError("bech32: invalid character in the data part") from None
    if _polymod([*_hrp_expand(hrp), *words]) != 1:
        raise DecodeError("bech32: checksum mismatch")
    return hrp, bytes(_regroup(words[:-6], 5, 8, pad=False))


def encode_lnurl(url: str) -> str:
    """The LNURL of ``url``: Bech32 under ``lnurl``, uppercase as QR codes prefer (LUD-01)."""
    return bech32_encode("lnurl", url.encode("utf-8")).upper()


def decode_lnurl(lnurl: str) -> str:
    """The URL inside an LNURL; raises ``DecodeError`` if it is not one."""
    hrp, data = bech32_decode(lnurl.strip())
    if hrp != "lnurl":
        raise DecodeError(f"bech32: prefix is {hrp!r}, not 'lnurl'")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("bech32: the LNURL does not hold UTF-8 text") from None
