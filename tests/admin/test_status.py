"""``/status``, ``/reload``, ``/health``, ``/openapi.json``, the audit log, and route/doc drift."""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path

import httpx
import pytest
import trio

from admin.answers import error_of
from admin.bodies import lnd_backend, node_key
from admin.conftest import serve_app_on_socket
from admin.fakes import AT, FakeHealth, FakeReloader, HealthView
from switchgeard.admin.app import create_admin_app, openapi_document
from switchgeard.admin.ports import AdminDeps
from switchgeard.config.model import LnurlConfig
from switchgeard.units import NodeKey


@pytest.fixture
def health() -> FakeHealth:
    return FakeHealth()


@pytest.fixture
def reloader() -> FakeReloader:
    return FakeReloader()


@pytest.fixture
def deps(deps: AdminDeps, health: FakeHealth, reloader: FakeReloader) -> AdminDeps:
    return dataclasses.replace(deps, health=health, reloader=reloader)


pytestmark = pytest.mark.usefixtures("admin_socket")


async def test_status_joins_store_and_health(client: httpx.AsyncClient, health: FakeHealth) -> None:
    await client.post("/discovery", json=lnd_backend(1, partitions=["default", "eu"]))
    await client.post("/discovery", json=lnd_backend(2, enabled=False))
    health.views = [
        HealthView(
            key=NodeKey(node_key(1)),
            health="healthy",
            health_since=AT,
            last_check=AT,
            latency=0.0123,
            inbound_capacity=5_000_000,
            invoices_issued=4,
            invoices_failed=1,
            invoices_settled=2,
            selectable_in=frozenset({"default"}),
        )
    ]
    status = (await client.get("/status")).json()
    assert status["version"] == "0.1.0"
    assert status["startedAt"] == "2026-01-02T03:04:05Z"
    assert status["uptimeSeconds"] > 0
    assert status["configFile"] == "/etc/switchgeard/switchgeard.toml"
    assert (status["store"], status["publicUrl"]) == ("sqlite", "https://pay.example.com")
    assert status["partitions"] == {"default": True, "eu": False}
    first, second = status["backends"]
    assert first == {
        "publicKey": node_key(1),
        "name": "node1",
        "kind": "lnd",
        "url": "https://127.0.0.1:10009",
        "partitions": ["default", "eu"],
        "weight": 1,
        "enabled": True,
        "health": "healthy",
        "healthSince": "2026-01-02T04:00:00Z",
        "lastCheck": "2026-01-02T04:00:00Z",
        "latencyMs": 12.3,
        "lastError": None,
        "inboundCapacityMsat": 5_000_000,
        "invoices": {"created": 4, "failed": 1, "settled": 2},
        "selectable": {"default": True, "eu": False},
    }
    assert (second["health"], second["selectable"]) == ("unknown", {"default": False})


async def test_status_follows_the_lnurl_section_in_force(
    deps: AdminDeps, short_dir: Path, nursery: trio.Nursery
) -> None:
    in_force = [LnurlConfig()]
    deps = dataclasses.replace(deps, health=None, lnurl=lambda: in_force[0])
    await serve_app_on_socket(deps, short_dir / "live.sock", nursery)
    transport = httpx.AsyncHTTPTransport(uds=str(short_dir / "live.sock"))
    async with httpx.AsyncClient(transport=transport, base_url="http://admin") as http:
        started = (await http.get("/status")).json()
        assert (started["publicUrl"], started["partitions"]) == (None, {"default": False})
        in_force[0] = LnurlConfig(allowed_hosts=("*.example", "pay.example"), partitions=("eu",))
        reloaded = (await http.get("/status")).json()
    assert reloaded["publicUrl"] == "https://pay.example"
    assert reloaded["partitions"] == {"eu": False}


async def test_reload(client: httpx.AsyncClient, reloader: FakeReloader) -> None:
    assert (await client.get("/status")).json()["lastReload"] is None
    accepted = await client.post("/reload")
    assert (accepted.status_code, accepted.json()) == (202, {"reload": None})
    done = await client.post("/reload", params={"wait": "true"})
    assert done.json() == {
        "reload": {"at": "2026-01-02T04:00:00Z", "ok": True, "error": None, "changed": []}
    }
    reloader.next_error = "store.url: is required"
    refused = await client.post("/reload", params={"wait": "true"})
    assert error_of(refused, 422, "config_invalid")["message"] == "store.url: is required"
    assert (await client.get("/status")).json()["lastReload"]["ok"] is False
    error_of(
        await client.post("/reload", params={"wait": "soon"}), 400, "invalid_parameter", "wait"
    )
    assert reloader.calls == [False, True, True]


async def test_health_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"] == "3.1.0"
    assert document == openapi_document()


async def test_mutations_are_audit_logged(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="switchgeard.admin")
    await client.get("/discovery")
    await client.post("/discovery", json=lnd_backend(1))
    await client.delete(f"/discovery/{node_key(2)}")
    lines = [r.getMessage() for r in caplog.records if r.name == "switchgeard.admin"]
    assert lines == [
        "POST /discovery -> 201 uid=?",
        f"DELETE /discovery/{node_key(2)} -> 404 uid=?",
    ]


def _normalise(path: str) -> str:
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


async def test_every_route_is_documented_and_every_documented_route_exists(deps: AdminDeps) -> None:
    app = create_admin_app(deps)
    served = {
        (_normalise(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS") and rule.endpoint != "static"
    }
    paths = openapi_document()["paths"]
    assert isinstance(paths, dict)
    documented = {
        (_normalise(path), method)
        for path, item in paths.items()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
    }
    assert served == documented
