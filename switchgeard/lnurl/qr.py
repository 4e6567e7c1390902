"""QR codes of LNURLs: PNG for the ``/bech32/qr`` route, text for terminals.

Error correction level M and a 4-module quiet zone, as the original Switchgear renders
them; the uppercase LNURL lets the encoder use the compact alphanumeric mode.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import segno

from switchgeard.errors import ConfigError

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True, slots=True)
class QrStyle:
    """Module size in pixels and the two colours (``#rrggbb``)."""

    scale: int
    dark: str
    light: str

    def __post_init__(self) -> None:
        for key, value in (("qr_dark", self.dark), ("qr_light", self.light)):
            if not _COLOUR.fullmatch(value):
                raise ConfigError(f"{value!r} is not a #rrggbb colour", key=f"lnurl.{key}")
        if not 1 <= self.scale <= 64:
            raise ConfigError("must be between 1 and 64", key="lnurl.qr_scale")


def qr_png(text: str, style: QrStyle) -> bytes:
    """A PNG of the QR code of ``text``."""
    out = io.BytesIO()
    code = segno.make_qr(text, error="m", boost_error=False)
    code.save(out, kind="png", scale=style.scale, dark=style.dark, light=style.light, border=4)
    return out.getvalue()


def qr_terminal(text: str) -> str:
    """The QR code of ``text`` drawn with text blocks for a terminal."""
    out = io.StringIO()
    segno.make_qr(text, error="m", boost_error=False).terminal(out=out, compact=True)
    return out.getvalue()
