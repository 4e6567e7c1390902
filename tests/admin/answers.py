"""Checks on admin API answers shared by the admin tests."""

from __future__ import annotations

from typing import Any

import httpx

from switchgeard.admin import protocol


def error_of(response: httpx.Response, status: int, code: str, field: object = None) -> Any:
    """Check an error answer; ``field=...`` accepts any field."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert error["number"] == protocol.ERROR_CODES[code].number
    if field is not ...:
        assert error.get("field") == field
    assert error["message"]
    return error
