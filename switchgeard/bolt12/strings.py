"""Bolt12 string form: bech32 characters without a checksum, ``+`` joining, one case.

``lno1...`` (offer), ``lnr1...`` (invoice_request), ``lni1...`` (invoice). A ``+``
followed by optional whitespace may join two bech32 characters and is removed; the
string must be all lower case or all upper case; padding is at most 4 zero bits.
"""

from __future__ import annotations

from switchgeard.errors import DecodeError

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_VALUES = {char: index for index, char in enumerate(CHARSET)}
_JOIN_WHITESPACE = " \t\r\n"
KNOWN_HRPS = frozenset({"lno", "lnr", "lni"})


def _unjoin(text: str) -> str:
    parts = text.split("+")
    for index, part in enumerate(parts):
        if index > 0:
            part = part.lstrip(_JOIN_WHITESPACE)
            parts[index] = part
        if not part or part[-1] in _JOIN_WHITESPACE or part[0] in _JOIN_WHITESPACE:
            raise DecodeError("bolt12 string: '+' must join two bech32 characters")
    return "".join(parts)


def _to_bytes(values: list[int]) -> bytes:
    accumulator = 0
    bits = 0
    out = bytearray()
    for value in values:
        accumulator = (accumulator << 5) | value
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((accumulator >> bits) & 0xFF)
    if bits >= 5:
        raise DecodeError("bolt12 string: padding exceeds 4 bits")
    if accumulator & ((1 << bits) - 1):
        raise DecodeError("bolt12 string: non-zero padding bits")
    return bytes(out)


def decode_string(text: str) -> tuple[str, bytes]:
    """Return ``(hrp, payload)`` of a Bolt12 string. Raises DecodeError."""
    joined = _unjoin(text)
    if joined != joined.lower() and joined != joined.upper():
        raise DecodeError("bolt12 string: mixed case")
    joined = joined.lower()
    hrp, separator, data = joined.rpartition("1")
    if not separator or hrp not in KNOWN_HRPS:
        raise DecodeError(f"bolt12 string: unknown prefix {hrp[:8]!r}")
    try:
        values = [_VALUES[char] for char in data]
    except KeyError as exc:
        raise DecodeError(f"bolt12 string: invalid character {exc.args[0]!r}") from None
    return hrp, _to_bytes(values)


def encode_string(hrp: str, payload: bytes) -> str:
    """Encode ``payload`` under ``hrp`` (lower case, no ``+`` joining)."""
    if hrp not in KNOWN_HRPS:
        raise ValueError(f"unknown bolt12 prefix {hrp!r}")
    accumulator = 0
    bits = 0
    chars: list[str] = []
    for byte in payload:
        accumulator = ((accumulator << 8) | byte) & 0xFFF
        bits += 8
        while bits >= 5:
            bits -= 5
            chars.append(CHARSET[(accumulator >> bits) & 31])
    if bits:
        chars.append(CHARSET[(accumulator << (5 - bits)) & 31])
    return hrp + "1" + "".join(chars)
