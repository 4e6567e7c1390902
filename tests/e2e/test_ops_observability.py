"""Acceptance of the operations wiring through the running daemon: a full wallet flow
(first call, callbacks, bech32, QR, verify, a settlement, a failover, a rate-limited
flood, an admin reload) with ``[logging] dir`` and a Prometheus listener on port 0, then:

* each log file holds exactly its service's lines, and wallet activity never reaches stderr;
* no log file nor stderr carries a macaroon, key material or a password;
* a scrape has every metric of integrations-ops §2.3 with its labels and no forbidden one.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from e2e_world import OFFER_PATH, World, open_world
from prometheus_client.parser import text_string_to_metric_families

import switchgeard.daemon.logs as daemon_logs
from switchgeard.daemon.logs import setup_logging

pytestmark = [pytest.mark.deadline(40)]

FLOODER = "203.0.113.9"
SECTIONS: dict[str, Any] = {
    "telemetry": {"prometheus_listen": "127.0.0.1:0"},
    "ratelimit": {
        "invoice": {"per_client": {"rate": "50/s", "burst": 50}},
        "bech32": {"per_client": {"rate": "1/s", "burst": 2}},
    },
}
CLF = re.compile(r'\S+ - - \[[^]]+\] "(GET|OPTIONS|HEAD) \S+ HTTP/[\d.]+" \d{3} (\d+|-)')
SERVICE_OF_LOGGER = {
    "switchgeard.lnurl": "lnurl",
    "switchgeard.admin": "admin",
    "switchgeard.balancer": "balancer",
    "switchgeard.ldap": "ldap",
}
BACKEND = {"switchgear_backend_id"}
EXPECTED: dict[str, set[str]] = {
    "switchgear_backend_up": BACKEND | {"switchgear_backend_kind"},
    "switchgear_backend_enabled": BACKEND | {"switchgear_backend_kind"},
    "switchgear_backend_health_check_duration_seconds": BACKEND | {"outcome"},
    "switchgear_backend_selections": BACKEND,
    "switchgear_backend_invoice_duration_seconds": BACKEND | {"outcome"},
    "switchgear_backend_invoice_errors": BACKEND | {"error_type"},
    "switchgear_backend_inflight": BACKEND,
    "switchgear_balancer_failovers": BACKEND,
    "switchgear_balancer_no_backend": set(),
    "switchgear_invoice_settled": BACKEND,
    "switchgear_ratelimit_rejections": {
        "switchgear_endpoint", "switchgear_ratelimit_scope", "switchgear_ratelimit_mode"
    },
    "switchgear_ratelimit_tracked_keys": {"switchgear_endpoint"},
    "switchgear_identifiers": {"source"},
    "switchgear_config_reloads": {"outcome"},
    "http_server_request_duration_seconds": {
        "http_request_method", "http_route", "http_response_status_code", "url_scheme",
        "network_protocol_version",
    },
    "process_cpu_time_seconds": {"cpu_mode"},
    "process_memory_usage_bytes": set(),
    "cpython_gc_collections": {"cpython_gc_generation"},
}  # fmt: skip
FORBIDDEN_LABEL = re.compile(r"ip|addr|client|user|offer|amount|host|peer|partition", re.I)
IP_OR_ID = re.compile(r"\b\d{1,3}(\.\d{1,3}){3}\b|[0-9a-f]{8}-[0-9a-f]{4}-")


@pytest.fixture
def stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The daemon's stderr handler, as ``switchgeard run`` installs it, into a buffer."""
    monkeypatch.setattr(daemon_logs, "_handler", None)  # restored after the test
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    monkeypatch.setattr(logging.getLogger("httpx"), "level", logging.WARNING)  # the test's own
    stream = io.StringIO()
    setup_logging("info", stream=stream, environ={})
    yield stream
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


async def _wallet_flow(world: World, tmp_path: Path) -> None:
    first = await world.first_call()
    assert first["tag"] == "payRequest"
    responses = [await world.callback(21_000) for _ in range(3)]
    assert (await world.http.get(OFFER_PATH + "/bech32")).status_code == 200
    assert (await world.http.get(OFFER_PATH + "/bech32/qr")).status_code == 200
    verify_url = responses[0].json()["verify"]
    fake = world.lnd if world.payee(responses[0]) == "lnd" else world.cln
    assert fake.settle(verify_url.rsplit("/", 1)[1])
    with trio.fail_after(5):
        while not (await world.http.get(verify_url)).json()["settled"]:
            await trio.sleep(0.05)
    assert (await world.http.get("/health/full")).status_code == 200


async def _failover(world: World) -> None:
    world.lnd.core.faults.update({"unavailable": True})
    payees = {world.payee(await world.callback()) for _ in range(4)}
    assert payees == {"cln"}
    world.lnd.core.faults.update({"unavailable": False})


async def _flood(world: World) -> None:
    headers = {"x-forwarded-for": FLOODER}
    codes = [
        (await world.http.get(OFFER_PATH + "/bech32", headers=headers)).status_code
        for _ in range(6)
    ]
    assert codes[:2] == [200, 200] and 429 in codes[2:], codes


async def _admin_reload(socket: Path) -> None:
    transport = httpx.AsyncHTTPTransport(uds=str(socket))
    async with httpx.AsyncClient(transport=transport, base_url="http://admin") as admin:
        response = await admin.post("/reload")
    assert response.status_code in (200, 202), response.text


def _secrets(world: World, tmp_path: Path) -> list[str]:
    """Every credential of the run: macaroon hex, every line of every private key file."""
    macaroon = world.lnd.macaroon_path.read_bytes().hex()
    found = [macaroon, macaroon.upper()]
    for key_file in [*tmp_path.glob("lnd/*.key"), *tmp_path.glob("cln/*key*.pem")]:
        body = [line for line in key_file.read_text().splitlines() if "-----" not in line]
        found += [line for line in body if len(line) >= 16]
    assert len(found) > 4, "expected the fakes' private keys in lnd/ and cln/"
    return found


def _leak(world: World, tmp_path: Path) -> None:
    """What a careless adapter could log: the redactor must catch it everywhere."""
    secrets = _secrets(world, tmp_path)
    logging.getLogger("switchgeard.lightning").warning("sending metadata %s", secrets[0])
    logging.getLogger("switchgeard.balancer").warning("loaded key line %s", secrets[-1])


def _check_log_files(logs: Path, stderr: str) -> None:
    files = {path.stem: path.read_text().splitlines() for path in logs.glob("*.log")}
    assert {"lnurl", "admin", "balancer", "system"} <= files.keys(), files.keys()
    for service, lines in files.items():
        assert lines or service in ("ldap", "bolt12"), service
        for line in lines:
            assert _service_of(line) == service, (service, line)
    assert any(OFFER_PATH + "/invoice?amount=21000" in line for line in files["lnurl"])
    assert any(f"client={FLOODER}" in line for line in files["lnurl"])  # the 429 activity
    assert any("POST /reload -> 20" in line for line in files["admin"])
    assert any("demo-lnd is unhealthy" in line for line in files["balancer"])
    assert any("config reloaded" in line for line in files["system"])
    for line in files["system"]:
        assert line.split(" ", 3)[3] in stderr, line  # the system log also goes to stderr
    for fragment in ("/offers/", "GET ", FLOODER, "switchgeard.lnurl", "switchgeard.admin"):
        assert fragment not in stderr, fragment


def _service_of(line: str) -> str:
    if CLF.fullmatch(line):
        return "lnurl"
    logger = line.split(" ", 3)[3].split(":", 1)[0]
    for prefix, service in SERVICE_OF_LOGGER.items():
        if logger == prefix or logger.startswith(prefix + "."):
            return service
    assert logger.startswith("switchgeard"), line
    return "system"


def _check_no_secrets(texts: dict[str, str], secrets: list[str]) -> None:
    for name, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret ({secret[:8]}...) reached {name}"
    assert "[REDACTED]" in texts["system.log"] and "[REDACTED]" in texts["stderr"]
    assert "[REDACTED]" in texts["balancer.log"]


async def _scrape(address: str) -> dict[str, dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://{address}/metrics")).text
    families: dict[str, dict[str, Any]] = {}
    for family in text_string_to_metric_families(text):
        entry = families.setdefault(family.name, {"labels": set(), "samples": []})
        for sample in family.samples:
            entry["labels"].update(sample.labels.keys() - {"le"})
            entry["samples"].append(sample)
    return families


async def _scrape_when_complete(address: str) -> dict[str, dict[str, Any]]:
    """Scrape until every metric is there and settled counts arrived (refreshed each second)."""
    with trio.fail_after(5):
        while True:
            families = await _scrape(address)
            settled = families.get("switchgear_invoice_settled", {"samples": []})["samples"]
            if EXPECTED.keys() <= families.keys() and any(s.value >= 1 for s in settled):
                return families
            await trio.sleep(0.1)


def _check_metrics(families: dict[str, dict[str, Any]]) -> None:
    for name, labels in EXPECTED.items():
        assert families[name]["labels"] == labels, name
    for name, entry in families.items():
        for label in entry["labels"]:
            assert not FORBIDDEN_LABEL.search(label), (name, label)
        for sample in entry["samples"]:
            for value in sample.labels.values():
                assert not IP_OR_ID.search(value), (name, value)
    routes = {
        s.labels["http_route"] for s in families["http_server_request_duration_seconds"]["samples"]
    }
    assert "/offers/{partition}/{id}/invoice" in routes and not any("default/" in r for r in routes)
    rejections = families["switchgear_ratelimit_rejections"]["samples"]
    assert {
        (s.labels["switchgear_endpoint"], s.labels["switchgear_ratelimit_scope"])
        for s in rejections
    } == {("bech32", "per_client")}
    failed = {
        s.labels["error_type"] for s in families["switchgear_backend_invoice_errors"]["samples"]
    }
    assert failed and failed <= {"BackendUnavailable", "BackendFault", "timeout"}, failed
    reloads = {
        s.labels["outcome"]: s.value for s in families["switchgear_config_reloads"]["samples"]
    }
    assert reloads == {"ok": 1.0, "error": 0.0}


async def test_full_run_logs_secrets_and_metrics(tmp_path: Path, stderr: io.StringIO) -> None:
    sections = {**SECTIONS, "logging": {"dir": str(tmp_path / "logs")}}
    (tmp_path / "logs").mkdir()
    proxied = {"trusted_proxies": ["127.0.0.1"]}
    async with open_world(tmp_path, lnurl=proxied, sections=sections) as world:
        assert world.addresses is not None and world.addresses.metrics is not None
        await _wallet_flow(world, tmp_path)
        await _failover(world)
        await _flood(world)
        await _admin_reload(tmp_path / "admin.sock")
        _leak(world, tmp_path)
        families = await _scrape_when_complete(world.addresses.metrics)
    _check_metrics(families)
    logs = tmp_path / "logs"
    _check_log_files(logs, stderr.getvalue())
    texts = {path.name: path.read_text() for path in logs.glob("*.log")}
    _check_no_secrets({**texts, "stderr": stderr.getvalue()}, _secrets(world, tmp_path))
