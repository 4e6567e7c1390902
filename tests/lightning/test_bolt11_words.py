"""The table-driven bech32 helpers against their textbook definitions (BIP-173)."""

from __future__ import annotations

import pytest
from bech32_reference import reference_bytes, reference_polymod
from hypothesis import given, settings
from hypothesis import strategies as st

from switchgeard.bech32 import CHARSET
from switchgeard.bech32 import hrp_expand as bech32_hrp_expand
from switchgeard.bech32 import polymod as bech32_polymod
from switchgeard.bech32 import split as bech32_split
from switchgeard.errors import DecodeError
from switchgeard.lightning.bolt11 import (
    words_to_bytes,
    words_to_int,
)

WORDS = st.lists(st.integers(min_value=0, max_value=31), max_size=700)


def checksummed(hrp: str, words: list[int]) -> str:
    checksum = reference_polymod([*bech32_hrp_expand(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ 1
    words = [*words, *((checksum >> 5 * (5 - index)) & 31 for index in range(6))]
    return hrp + "1" + "".join(CHARSET[word] for word in words)


@settings(max_examples=200, deadline=None)
@given(WORDS)
def test_polymod_matches_the_bit_by_bit_definition(words: list[int]) -> None:
    assert bech32_polymod(words) == reference_polymod(words)


@settings(max_examples=200, deadline=None)
@given(WORDS, st.booleans())
def test_word_conversions_match_the_bit_by_bit_definition(words: list[int], pad: bool) -> None:
    expected = reference_bytes(words, pad=pad)
    if expected is None:
        with pytest.raises(DecodeError, match="padding"):
            words_to_bytes(words, pad=pad)
    else:
        assert words_to_bytes(words, pad=pad) == expected
    assert words_to_int(words) == sum(word << 5 * i for i, word in enumerate(reversed(words)))


@settings(max_examples=100, deadline=None)
@given(WORDS)
def test_split_returns_the_words_of_a_valid_string(words: list[int]) -> None:
    text = checksummed("lnbcrt", words)
    assert bech32_split(text) == ("lnbcrt", words)
    assert bech32_split(text.upper()) == ("lnbcrt", words)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (checksummed("lnbc", [1, 2, 3]).replace("lnbc", "lnBc"), "mixed case"),
        (checksummed("lnbc", [1, 2, 3])[:-1] + "b", "invalid character in the data part"),
        (checksummed("lnbc", [1, 2, 3]) + "é", "invalid character"),
        (checksummed("lnbc", [1, 2, 3]) + "\x7f", "invalid character"),
        (" " + checksummed("lnbc", [1, 2, 3]), "invalid character"),
        ("lnbc1qqqqqq", "bad checksum"),
        ("qqqqqqqq", "missing separator"),
    ],
)
def test_split_names_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        bech32_split(text)
