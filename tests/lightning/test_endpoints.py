"""Endpoint URL parsing."""

from __future__ import annotations

import pytest

from switchgeard.lightning.endpoints import split_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://lnd.example:10009", ("lnd.example", 10009)),
        ("127.0.0.1:9736", ("127.0.0.1", 9736)),
        ("https://[::1]:10009/", ("::1", 10009)),
        ("grpcs://cln:9736", ("cln", 9736)),
    ],
)
def test_split_url(url: str, expected: tuple[str, int]) -> None:
    assert split_url(url) == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://lnd:10009", "scheme"),
        ("https://lnd", "port"),
        ("https://lnd:99999", "port"),
        ("https://lnd:10009/v1", "path"),
        ("", "host"),
    ],
)
def test_bad_urls_are_explained(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        split_url(url)
