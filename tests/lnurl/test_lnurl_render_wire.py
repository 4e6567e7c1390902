"""``render.json_wire`` sends what Quart sends for ``render.json_response``, byte for byte."""

from __future__ import annotations

from typing import Any

import pytest
from quart.utils import encode_headers

from switchgeard.lnurl import render

CASES: list[tuple[Any, int, dict[str, str] | None]] = [
    ({"pr": "lnbc1", "routes": [], "disposable": False}, 200, None),
    ({"tag": "payRequest", "metadata": '[["text/plain","café ☕"]]'}, 200, {}),
    ({"tag": "payRequest"}, 200, {"Cache-Control": "public, max-age=60", "Expires": "x"}),
    ({"status": "ERROR", "reason": "not found"}, 404, None),
    ({"a": [1, 2.5, None, "\u2028"]}, 503, {"Access-Control-Allow-Origin": "https://w.example"}),
]


@pytest.mark.parametrize(("body", "status", "headers"), CASES)
async def test_json_wire_is_the_response_quart_sends(
    body: Any, status: int, headers: dict[str, str] | None
) -> None:
    response = render.json_response(body, status=status, headers=headers)
    expected = (response.status_code, encode_headers(response.headers), await response.get_data())
    wire = render.json_wire(body, status=status, headers=headers)
    assert (wire.status, wire.headers, wire.body) == expected
    assert await render.wire_of(response) == wire
