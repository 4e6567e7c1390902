"""Schemathesis against the live socket: no 5xx, and every answer matches the OpenAPI document."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
import trio
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from admin.bodies import address, lnd_backend, metadata, offer
from admin.fakes import FakeHealth, FakeReloader
from switchgeard.admin.app import openapi_document
from switchgeard.admin.ports import AdminDeps

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SETTINGS = hypothesis.settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)


def _send(http: httpx.Client, case: Any) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url="http://admin")
    kwargs.pop("cookies", None)
    if "data" in kwargs:
        kwargs["content"] = kwargs.pop("data")
    return http.request(**kwargs)


def _fuzz(socket: Path) -> list[str]:
    schema = schemathesis.openapi.from_dict(openapi_document())
    transport = httpx.HTTPTransport(uds=str(socket))
    tried = []
    with httpx.Client(transport=transport, timeout=10) as http:
        for result in schema.get_all_operations():
            operation = result.ok()
            strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
                GenerationMode.NEGATIVE
            )

            @SETTINGS
            @hypothesis.given(case=strategy)
            def check(case: Any) -> None:
                case.validate_response(_send(http, case), checks=CHECKS)

            check()
            tried.append(operation.label)
    return tried


@pytest.fixture
def deps(deps: AdminDeps) -> AdminDeps:
    return dataclasses.replace(deps, health=FakeHealth(), reloader=FakeReloader())


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    admin_socket: Path, client: httpx.AsyncClient
) -> None:
    # Seed records so GET/PUT/DELETE on known ids reach the store's happy paths too.
    await client.post("/discovery", json=lnd_backend(1))
    await client.post("/metadata", json=metadata(1))
    await client.post("/offers", json=offer(1))
    await client.post("/addresses", json=address())
    with trio.fail_after(120):
        tried = await trio.to_thread.run_sync(_fuzz, admin_socket)
    assert len(tried) == 28
