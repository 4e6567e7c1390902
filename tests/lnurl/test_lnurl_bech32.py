"""Bech32 LNURLs: public vectors, no 90-character cap, and rejection of bad strings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchgeard.bech32 import decode as bech32_decode
from switchgeard.bech32 import encode as bech32_encode
from switchgeard.errors import DecodeError
from switchgeard.lnurl.bech32 import decode_lnurl, encode_lnurl

LUD01_URL = (
    "https://service.com/api?q=3fc3645b439ce8e7f2553a69e5267081d96dcd340693afabe04be7b0ccd178df"
)
LUD01_LNURL = (
    "LNURL1DP68GURN8GHJ7UM9WFMXJCM99E3K7MF0V9CXJ0M385EKVCENXC6R2C35XVUKXEFCV5MKVV34X5EKZD3E"
    "V56NYD3HXQURZEPEXEJXXEPNXSCRVWFNV9NXZCN9XQ6XYEFHVGCXXCMYXYMNSERXFQ5FNS"
)
LOCAL_URL = "http://127.0.0.1:5077/.well-known/lnurlp/alice"
LOCAL_LNURL = (
    "LNURL1DP68GUP69UHNZV3H9CCZUVPWXYAR2VPHXUHJUAM9D3KZ66MWDAMKUTMVDE6HYMRS9ASKC6TRV5XWDGAR"
)


@pytest.mark.parametrize(("url", "lnurl"), [(LUD01_URL, LUD01_LNURL), (LOCAL_URL, LOCAL_LNURL)])
def test_public_vectors(url: str, lnurl: str) -> None:
    assert encode_lnurl(url) == lnurl
    assert decode_lnurl(lnurl) == url
    assert decode_lnurl(lnurl.lower()) == url


def test_bip173_vector_and_no_length_cap() -> None:
    assert bech32_decode("A12UEL5L") == ("a", b"")
    long_url = "https://pay.example.com/offers/" + "p" * 300
    assert len(encode_lnurl(long_url)) > 500
    assert decode_lnurl(encode_lnurl(long_url)) == long_url


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (LOCAL_LNURL[:-1] + "Q", "checksum"),
        (LOCAL_LNURL[:10] + LOCAL_LNURL[10:].lower(), "mixed"),
        ("LNURL1" + "B" * 20, "invalid character"),
        ("nosepar", "separator"),
        ("lnurl1qqqq", "separator"),
        (bech32_encode("lnbc", b"x"), "not 'lnurl'"),
        (bech32_encode("lnurl", b"\xff\xfe"), "UTF-8"),
        ("x" * 9000, "longer than"),
    ],
)
def test_bad_strings_are_decode_errors(text: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_lnurl(text)


@given(st.text(max_size=400))
def test_round_trip(url: str) -> None:
    assert decode_lnurl(encode_lnurl(url)) == url
