"""The redactor's quick pre-check never skips a line its key=value pattern would change."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from switchgeard.telemetry import redact
from switchgeard.telemetry.redact import Redactor

PIECES = st.sampled_from(
    [
        "password", "PassWD", "passphrase", "SECRET", "token", "macaroon", "rune",
        "Authorization", "api_key", "API-KEY", "apikey", "private_key", "preimage",
        "credentials", "bind_pw", "K1", "\u212a1", "ſecret", "=", ":", " ", "'", '"', "&",
        "?", "/", "-", ".", "_", "x", "7", "é", "amount", "invoice",
    ]
)  # fmt: skip


NOISE = st.lists(PIECES | st.text(max_size=4), max_size=6).map("".join)
PAIRS = st.tuples(NOISE, PIECES, st.sampled_from(["=", ":", '"=', " : ", "-x=", "'="]), NOISE).map(
    "".join
)


@settings(max_examples=500, deadline=None)
@given(PAIRS | st.lists(PIECES | st.text(max_size=4), max_size=12).map("".join))
@example("GET /cb?amount=1000&token=abc123def&k1=ffee")
@example("\u212a1=ffee")  # the Kelvin sign folds to k only in the regex
def test_lines_passed_over_cannot_match(text: str) -> None:
    if not redact._may_name_a_secret(text):
        assert redact._PAIR.search(text) is None


def test_access_lines_are_passed_over_and_kept() -> None:
    line = '127.0.0.1 - - [25/Nov/2026:10:04:36 +0000] "GET /offers/p/1/invoice?amount=5 HTTP/1.1"'
    assert not redact._may_name_a_secret(line)
    assert Redactor().redact(line) == line
    assert Redactor().redact(line + "&token=abc") == line + "&token=" + redact.MARK
