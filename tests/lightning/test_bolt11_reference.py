"""The fast decoder against a plain one, on random signed invoices and random strings.

``decode_invoice`` reads words as base-32 digits and checks the checksum with masks; the
reference below goes word by word and bit by bit, as BIP-173 and BOLT 11 describe it.
Both must give equal invoices or the same error message for every input. The parts the
optimisation did not touch (``parse_hrp``, route hops, signature recovery) are shared.
"""

from __future__ import annotations

import hashlib
from typing import Any

import coincurve
from bech32_reference import expand, reference_polymod
from bech32_reference import reference_bytes as plain_bytes
from hypothesis import given, settings
from hypothesis import strategies as st

from switchgeard.bech32 import CHARSET, polymod, split, split_digits
from switchgeard.errors import DecodeError
from switchgeard.lightning.bolt11 import (
    DEFAULT_EXPIRY,
    DEFAULT_MIN_FINAL_CLTV,
    KNOWN_FEATURES,
    DecodedInvoice,
    _check_signature,
    _route,
    decode_invoice,
    parse_hrp,
)

KEY = coincurve.PrivateKey(hashlib.sha256(b"reference payee").digest())
OTHER_KEY = coincurve.PrivateKey(hashlib.sha256(b"someone else").digest())
WORD = st.integers(min_value=0, max_value=31)


def reference_split(text: str) -> tuple[str, list[int]]:
    if len(text) > 8192:
        raise DecodeError("bech32: longer than 8192 characters")
    if not text.isascii():
        raise DecodeError("bech32: invalid character")
    if text.lower() != text and text.upper() != text:
        raise DecodeError("bech32: mixed case")
    text = text.lower()
    separator = text.rfind("1")
    if separator < 1 or separator + 7 > len(text):
        if any(not "!" <= char <= "~" for char in text):
            raise DecodeError("bech32: invalid character")
        raise DecodeError("bech32: missing separator '1' or too short")
    hrp, data = text[:separator], text[separator + 1 :]
    if any(not "!" <= char <= "~" for char in hrp):
        raise DecodeError("bech32: invalid character")
    if any(char not in CHARSET for char in data):
        raise DecodeError("bech32: invalid character in the data part")
    words = [CHARSET.index(char) for char in data]
    if reference_polymod(expand(hrp) + words) != 1:
        raise DecodeError("bech32: bad checksum")
    return hrp, words[:-6]


def reference_bytes(words: list[int], *, pad: bool = False) -> bytes:
    converted = plain_bytes(words, pad=pad)
    if converted is None:
        raise DecodeError("non-zero padding bits")
    return converted


def reference_int(words: list[int]) -> int:
    number = 0
    for word in words:
        number = number << 5 | word
    return number


LETTERS = {1: "p", 16: "s", 19: "n", 13: "d", 23: "h", 6: "x", 24: "c", 5: "9", 27: "m", 9: "f"}
LETTERS |= {3: "r"}
FIXED_WORDS = {"p": 52, "s": 52, "h": 52, "n": 53}


def reference_fields(words: list[int]) -> dict[str, Any]:
    """The tagged fields as a dict of first values, plus counts and lists."""
    fields: dict[str, Any] = {"descriptions": 0, "f": [], "r": []}
    position = 0
    while position < len(words):
        if position + 3 > len(words):
            raise DecodeError("invoice: truncated tagged field")
        letter = LETTERS.get(words[position])
        length = words[position + 1] * 32 + words[position + 2]
        data = words[position + 3 : position + 3 + length]
        if len(data) != length:
            raise DecodeError("invoice: tagged field longer than the invoice")
        position += 3 + length
        if letter is not None:
            reference_field(fields, letter, data)
    return fields


def reference_field(fields: dict[str, Any], letter: str, data: list[int]) -> None:
    if letter in FIXED_WORDS:
        if len(data) != FIXED_WORDS[letter]:
            return
        value = reference_bytes(data)
        if letter == "h":
            if "h" not in fields and "d" not in fields:
                fields["h"] = value
            fields["descriptions"] += 1
        else:
            fields.setdefault(letter, value)
    elif letter == "d":
        if "h" not in fields and "d" not in fields:
            try:
                fields["d"] = reference_bytes(data).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DecodeError("invoice: description is not UTF-8") from exc
        fields["descriptions"] += 1
    elif letter in "xc9":
        if data and data[0] == 0:
            raise DecodeError(f"invoice: field {letter} has a non-minimal length")
        fields.setdefault(letter, reference_int(data))
    elif letter == "m":
        if "m" not in fields:
            fields["m"] = reference_bytes(data)
    elif letter == "f":
        if data and data[0] <= 18:
            fields["f"].append((data[0], reference_bytes(data[1:])))
    else:
        fields["r"].append(_route(reference_bytes(data)))


def reference_decode(text: str) -> DecodedInvoice:
    hrp, words = reference_split(text.strip())
    currency, amount = parse_hrp(hrp)
    if len(words) < 7 + 104:
        raise DecodeError("invoice: too short")
    body, signature = words[:-104], reference_bytes(words[-104:])
    fields = reference_fields(body[7:])
    digest = hashlib.sha256(hrp.encode() + reference_bytes(body, pad=True)).digest()
    payee = _check_signature(signature, digest, fields.get("n"))
    if "p" not in fields:
        raise DecodeError("invoice: missing payment hash (p)")
    if "s" not in fields:
        raise DecodeError("invoice: missing payment secret (s)")
    if fields["descriptions"] != 1:
        raise DecodeError("invoice: needs exactly one of description (d) or hash (h)")
    number = fields.get("9", 0)
    features = frozenset(bit for bit in range(number.bit_length()) if number >> bit & 1)
    unknown_even = {bit for bit in features if bit % 2 == 0} - KNOWN_FEATURES
    if unknown_even:
        raise DecodeError(f"invoice: unknown required feature bits {sorted(unknown_even)}")
    return DecodedInvoice(
        currency=currency,
        amount_msat=amount,
        timestamp=reference_int(body[:7]),
        payment_hash=fields["p"].hex(),
        payment_secret=fields["s"].hex(),
        description=fields.get("d"),
        description_hash=fields["h"].hex() if "h" in fields else None,
        payee=payee,
        expiry=fields.get("x", DEFAULT_EXPIRY),
        min_final_cltv_expiry=fields.get("c", DEFAULT_MIN_FINAL_CLTV),
        features=features,
        metadata=fields.get("m"),
        fallbacks=tuple(fields["f"]),
        routes=tuple(fields["r"]),
    )


def outcome(decode: Any, text: str) -> object:
    """What ``decode`` makes of ``text``: its result, or its error message."""
    try:
        return decode(text)
    except DecodeError as exc:
        return f"DecodeError: {exc}"


def bytes_words(data: bytes) -> list[int]:
    number, bits = int.from_bytes(data, "big"), len(data) * 8
    number <<= -bits % 5
    count = -(-bits // 5)
    return [number >> 5 * (count - 1 - index) & 31 for index in range(count)]


def int_words(number: int) -> list[int]:
    words = []
    while number:
        words.append(number & 31)
        number >>= 5
    return words[::-1]


def bech32_text(hrp: str, words: list[int]) -> str:
    checksum = reference_polymod([*expand(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ 1
    words = [*words, *(checksum >> 5 * (5 - index) & 31 for index in range(6))]
    return hrp + "1" + "".join(CHARSET[word] for word in words)


def field(tag: int, data: list[int]) -> list[int]:
    return [tag, len(data) >> 5 & 31, len(data) & 31, *data]


HASH = st.binary(min_size=32, max_size=32).map(bytes_words)
PAYEE = st.sampled_from([bytes_words(key.public_key.format()) for key in (KEY, OTHER_KEY)])
FEATURE_BITS = st.sets(st.sampled_from([8, 9, 14, 15, 16, 17, 22, 25, 40, 49, 101]), max_size=5)
FALLBACK = st.tuples(WORD, st.binary(max_size=32)).map(lambda f: [f[0], *bytes_words(f[1])])
ROUTE = st.lists(st.binary(min_size=51, max_size=51), min_size=1, max_size=2).map(
    lambda hops: bytes_words(b"".join(hops))
)
FIELDS = st.one_of(
    st.tuples(st.sampled_from([1, 16, 23]), HASH),
    st.tuples(st.just(19), PAYEE),
    st.tuples(st.just(13), st.text(max_size=40).map(lambda text: bytes_words(text.encode()))),
    st.tuples(st.sampled_from([6, 24]), st.integers(0, 2**40).map(int_words)),
    st.tuples(st.sampled_from([6, 24, 5]), st.lists(WORD, max_size=4)),  # maybe not minimal
    st.tuples(st.just(5), FEATURE_BITS.map(lambda bits: int_words(sum(1 << bit for bit in bits)))),
    st.tuples(st.sampled_from([27, 13]), st.binary(max_size=40).map(bytes_words)),
    st.tuples(st.just(9), FALLBACK),
    st.tuples(st.just(3), ROUTE),
    st.tuples(WORD, st.lists(WORD, max_size=70)),  # any tag and data, valid or not
)
HRPS = ["lnbc", "lnbc2500u", "lntb20m", "lnbcrt1p", "lnbcrt10p", "lntbs1", "lnxy1m", "lnbc0"]


@st.composite
def invoices(draw: st.DrawFn) -> str:
    """A signed invoice, usually valid; sometimes a field is missing, repeated or odd,
    or the string is damaged."""
    hrp = draw(st.sampled_from(HRPS))
    required = [(1, draw(HASH)), (16, draw(HASH)), (23, draw(HASH))]
    dropped = draw(st.sampled_from([None, None, None, 0, 1, 2]))
    if dropped is not None:
        del required[dropped]
    chosen = draw(st.permutations(required + draw(st.lists(FIELDS, max_size=5))))
    words = draw(st.lists(WORD, min_size=7, max_size=7))  # the timestamp
    words += [word for tag, data in chosen for word in field(tag, data)]
    del words[len(words) - draw(st.sampled_from([0, 0, 0, 0, 1, 2])) :]  # cut the last field
    digest = hashlib.sha256(hrp.encode() + reference_bytes(words, pad=True)).digest()
    words += bytes_words(KEY.sign_recoverable(digest, hasher=None))
    text = bech32_text(hrp, words)
    mutation = draw(st.sampled_from(["none", "none", "none", "upper", "flip", "cut", "space"]))
    if mutation == "upper":
        return text.upper()
    if mutation == "flip":
        index = draw(st.integers(0, len(text) - 1))
        return text[:index] + draw(st.sampled_from("qpzry1B \x7fé")) + text[index + 1 :]
    if mutation == "cut":
        return text[: draw(st.integers(0, len(text)))]
    return f" {text}\n" if mutation == "space" else text


@settings(max_examples=400, deadline=None)
@given(invoices())
def test_decode_matches_the_plain_reference(text: str) -> None:
    assert outcome(decode_invoice, text) == outcome(reference_decode, text)


def test_the_generator_makes_valid_invoices_too() -> None:
    """Guards the property above against only ever comparing two error messages."""
    payload = [*field(1, bytes_words(bytes(32))), *field(16, bytes_words(bytes(32)))]
    words = [0] * 7 + payload + field(23, bytes_words(bytes(32)))
    digest = hashlib.sha256(b"lnbc" + reference_bytes(words, pad=True)).digest()
    text = bech32_text("lnbc", words + bytes_words(KEY.sign_recoverable(digest, hasher=None)))
    assert decode_invoice(text) == reference_decode(text)
    assert decode_invoice(text).payee == KEY.public_key.format().hex()


BECH32_CHARS = st.sampled_from([*CHARSET, *CHARSET.upper(), "1", "b", " ", "~", "\x7f", "é"])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["lnbc", "a", "LNURL", "ln bc", "x\x7f"]), st.lists(WORD, max_size=80))
def test_split_matches_the_plain_reference_on_valid_strings(hrp: str, words: list[int]) -> None:
    text = bech32_text(hrp.lower(), words)
    assert outcome(split, text) == outcome(reference_split, text)


@settings(max_examples=300, deadline=None)
@given(st.text(BECH32_CHARS, max_size=40))
def test_split_matches_the_plain_reference_on_any_string(text: str) -> None:
    assert outcome(split, text) == outcome(reference_split, text)


@settings(max_examples=30, deadline=None)
@given(st.lists(WORD, min_size=1000, max_size=3500))
def test_checksum_folds_long_inputs_correctly(words: list[int]) -> None:
    """Past 1023 words the checksum folds the input on the generator's period."""
    assert polymod(words) == reference_polymod(words)
    text = bech32_text("lnurl", words)
    assert split(text) == ("lnurl", words)


@settings(max_examples=100, deadline=None)
@given(st.lists(WORD, max_size=200))
def test_split_digits_spell_the_words(words: list[int]) -> None:
    hrp, digits = split_digits(bech32_text("lnbc", words))
    assert hrp == "lnbc"
    assert [int(chr(digit), 32) for digit in digits] == words
