"""A store that cannot be reached gives 503 with a generic message, never a 500 or details."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import httpx
import pytest

from admin.answers import error_of
from switchgeard.admin.ports import AdminDeps
from switchgeard.errors import StoreUnavailable


class DownStore:
    """Every store call fails the way an unreachable database does."""

    def __getattr__(self, name: str) -> Any:
        async def fail(*args: object, **kwargs: object) -> None:
            raise StoreUnavailable("connection refused by db.internal:5432 (password=hunter2)")

        return fail


@pytest.fixture
def deps(deps: AdminDeps) -> AdminDeps:
    return dataclasses.replace(deps, store=DownStore())  # type: ignore[arg-type]


@pytest.mark.usefixtures("admin_socket")
async def test_store_unavailable_is_503_without_details(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="switchgeard.admin")
    for response in (
        await client.get("/discovery"),
        await client.get("/status"),
        await client.get("/offers/default"),
        await client.delete("/metadata/default/00000000-0000-0000-0000-000000000001"),
    ):
        error = error_of(response, 503, "store_unavailable")
        assert "hunter2" not in response.text
        assert error["message"] == "the store is unavailable; see the daemon's log"
    assert "store unavailable" in caplog.text
    assert (await client.get("/health")).status_code == 200
