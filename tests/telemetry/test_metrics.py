"""Metrics: a real scrape of the Prometheus listener has every instrument with the expected
labels and no forbidden one; OTLP/HTTP posts reach a loopback receiver; access lines."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

import pytest
import trio
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from prometheus_client.parser import text_string_to_metric_families

from switchgeard.config.model import Seconds, TelemetryConfig
from switchgeard.errors import ConfigError
from switchgeard.telemetry import BackendSample, BalancerTotals, LdapSample, Metrics, open_metrics
from switchgeard.telemetry.access import ClientIpFormat, HttpObserver, clf_time
from switchgeard.telemetry.export import parse_listen

BACKEND = "02" + "ab" * 32
EXPECTED: dict[str, set[str]] = {
    "switchgear_backend_up": {"switchgear_backend_id", "switchgear_backend_kind"},
    "switchgear_backend_enabled": {"switchgear_backend_id", "switchgear_backend_kind"},
    "switchgear_backend_health_check_duration_seconds": {"switchgear_backend_id", "outcome"},
    "switchgear_backend_selections": {"switchgear_backend_id"},
    "switchgear_backend_invoice_duration_seconds": {"switchgear_backend_id", "outcome"},
    "switchgear_backend_invoice_errors": {"switchgear_backend_id", "error_type"},
    "switchgear_backend_inflight": {"switchgear_backend_id"},
    "switchgear_balancer_failovers": {"switchgear_backend_id"},
    "switchgear_balancer_no_backend": set(),
    "switchgear_invoice_settled": {"switchgear_backend_id"},
    "switchgear_ratelimit_rejections": {
        "switchgear_endpoint", "switchgear_ratelimit_scope", "switchgear_ratelimit_mode"
    },
    "switchgear_ratelimit_tracked_keys": {"switchgear_endpoint"},
    "switchgear_ratelimit_fail_open": {"switchgear_ratelimit_backend"},
    "switchgear_config_reloads": {"outcome"},
    "switchgear_identifiers": {"source"},
    "switchgear_ldap_sync_last_success_seconds": set(),
    "switchgear_ldap_sync_errors": set(),
    "http_server_request_duration_seconds": {
        "http_request_method", "http_route", "http_response_status_code", "url_scheme",
        "network_protocol_version",
    },
    "process_cpu_time_seconds": {"cpu_mode"},
    "process_memory_usage_bytes": set(),
    "process_thread_count": set(),
    "process_unix_file_descriptor_count": set(),
    "cpython_gc_collections": {"cpython_gc_generation"},
}  # fmt: skip
FORBIDDEN = re.compile(r"ip|addr|client|user|offer|amount|host|peer", re.IGNORECASE)
IPV4 = re.compile(r"\b\d{1,3}(\.\d{1,3}){3}\b")


async def _hello(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


async def _request(app: Any, path: str, peer: str = "203.0.113.77", **extra: Any) -> None:
    scope = {"type": "http", "method": "GET", "path": path, "scheme": "https",
             "http_version": "1.1", "query_string": b"amount=1000", "headers": [],
             "client": (peer, 1234), **extra}  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        pass

    await app(scope, receive, send)


def _exercise(metrics: Metrics) -> None:
    metrics.publish_backends([BackendSample(BACKEND, "lnd", up=True, enabled=True)])
    metrics.publish_ratelimit({"invoice": 3}, backend="memory", up=True, fail_open=0)
    metrics.health_checked(BACKEND, outcome="ok", seconds=0.02)
    metrics.invoice_finished(BACKEND, outcome="ok", seconds=0.1)
    metrics.inflight(BACKEND, 1)
    metrics.publish_balancer(
        BalancerTotals(
            selections={BACKEND: 2},
            failovers={BACKEND: 1},
            invoice_errors={(BACKEND, "BackendUnavailable"): 1},
            settled={BACKEND: 1},
            no_backend=1,
        )
    )
    metrics.ratelimit_rejected(endpoint="invoice", scope="per_client", mode="enforce")
    metrics.publish_reloads(ok=1, error=0)
    metrics.publish_ldap(LdapSample(last_success=1_700_000_000.0, errors=0))
    metrics.publish_identifiers({"db": 2, "ldap": 3})


async def _scrape(address: str, path: str = "/metrics") -> tuple[str, str]:
    host, port = parse_listen(address)
    stream = await trio.open_tcp_stream(host, port)
    async with stream:
        await stream.send_all(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := await stream.receive_some(65536):
            data += chunk
    head, _, body = data.decode().partition("\r\n\r\n")
    return head.split("\r\n")[0], body


async def test_scrape_has_every_metric_with_low_cardinality_labels() -> None:
    cfg = TelemetryConfig(prometheus_listen="127.0.0.1:0", otlp_endpoint="")
    async with open_metrics(cfg) as metrics:
        assert metrics.prometheus_address is not None
        _exercise(metrics)
        app = HttpObserver(_hello, route_of=lambda p: "/offers/{partition}/{id}", metrics=metrics)
        await _request(app, "/offers/default/42")
        status, body = await _scrape(metrics.prometheus_address)
        missing_status, _ = await _scrape(metrics.prometheus_address, "/other")
    assert status == "HTTP/1.1 200 OK"
    assert missing_status == "HTTP/1.1 404 Not Found"
    labels: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            labels.setdefault(family.name, set()).update(sample.labels.keys() - {"le"})
            for name, value in sample.labels.items():
                assert not FORBIDDEN.search(name), (family.name, name)
                assert not IPV4.search(value), (family.name, value)
    for name, expected in EXPECTED.items():
        assert name in labels, name
        assert labels[name] == expected, name
    assert "target_info" not in labels
    assert "/offers/default/42" not in body
    assert "otel_scope_name" not in body


async def test_gauges_read_snapshots_published_by_sources() -> None:
    cfg = TelemetryConfig(prometheus_listen="", otlp_endpoint="")
    async with open_metrics(cfg, refresh_interval=0.01) as metrics:
        metrics.add_source(
            lambda: metrics.publish_backends([BackendSample("b", "cln", False, True)])
        )
        await trio.sleep(0.05)
        labels = {"switchgear_backend_id": "b", "switchgear_backend_kind": "cln"}
        assert metrics.registry.get_sample_value("switchgear_backend_up", labels) == 0
        assert metrics.registry.get_sample_value("switchgear_backend_enabled", labels) == 1
        assert metrics.prometheus_address is None


async def _otlp_receiver(
    posts: list[tuple[str, bytes]], *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED
) -> None:
    async def handle(stream: trio.SocketStream) -> None:
        async with stream:
            data = b""
            while b"\r\n\r\n" not in data:
                data += await stream.receive_some(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            while len(body) < length:
                body += await stream.receive_some(65536)
            posts.append((head.split(b"\r\n")[0].decode(), body))
            reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
            await stream.send_all(reply + b"Content-Length: 0\r\nConnection: close\r\n\r\n")

    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    task_status.started(listeners[0].socket.getsockname()[1])
    await trio.serve_listeners(handle, listeners)


async def test_otlp_posts_to_a_loopback_receiver() -> None:
    posts: list[tuple[str, bytes]] = []
    async with trio.open_nursery() as nursery:
        port = await nursery.start(_otlp_receiver, posts)
        endpoint = f"http://127.0.0.1:{port}/v1/metrics"
        cfg = TelemetryConfig(
            prometheus_listen="", otlp_endpoint=endpoint, otlp_interval=Seconds(60)
        )
        async with open_metrics(cfg) as metrics:
            _exercise(metrics)
        nursery.cancel_scope.cancel()  # leaving open_metrics flushed one export
    assert posts
    request_line, body = posts[-1]
    assert request_line == "POST /v1/metrics HTTP/1.1"
    export = ExportMetricsServiceRequest.FromString(body)
    names = {
        m.name for rm in export.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    }
    assert {"switchgear.backend.selections", "switchgear.ratelimit.rejections"} <= names
    resource = {a.key: a.value.string_value for a in export.resource_metrics[0].resource.attributes}
    assert resource["service.name"] == "switchgeard"


@pytest.mark.parametrize("bad", ["", "9464", "host:", ":9464", "host:99999", "[::1]"])
def test_parse_listen_rejects(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_listen(bad)
    assert info.value.key == "telemetry.prometheus_listen"


def test_parse_listen() -> None:
    assert parse_listen("[::1]:9464") == ("::1", 9464)
    assert parse_listen("127.0.0.1:0") == ("127.0.0.1", 0)


async def test_bad_otlp_endpoint_is_a_config_error() -> None:
    cfg = TelemetryConfig(prometheus_listen="", otlp_endpoint="collector:4318")
    with pytest.raises(ConfigError) as info:
        async with open_metrics(cfg):
            pass
    assert info.value.key == "telemetry.otlp_endpoint"


class _Client:
    def __init__(self, address: Any) -> None:
        self.address = address

    def __str__(self) -> str:
        return "unix"


async def test_access_line_in_common_log_format(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("switchgeard.lnurl.access")
    caplog.set_level(logging.INFO, log.name)
    app = HttpObserver(_hello, route_of=lambda p: "other", access_log=log)
    await _request(app, "/offers/default/42")
    await _request(app, "/x", **{"switchgeard.client": _Client(None)})
    truncating = HttpObserver(_hello, route_of=lambda p: "other", access_log=log,
                              client_ip=ClientIpFormat("truncate"))  # fmt: skip
    await _request(truncating, "/y", peer="2001:db8:aa:bb::1")
    await _request(truncating, "/y")
    hashing = HttpObserver(_hello, route_of=lambda p: "other", access_log=log,
                           client_ip=ClientIpFormat("hash", key=b"k"))  # fmt: skip
    await _request(hashing, "/z")
    lines = [r.getMessage() for r in caplog.records]
    clf = re.compile(
        r'(\S+) - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "([^"]*)" (\d{3}) (\d+|-)'
    )
    parsed = [clf.fullmatch(line) for line in lines]
    assert all(parsed), lines
    fields = [m.groups()[0:1] + m.groups()[1:2] + m.groups()[2:] for m in parsed if m]
    assert fields[0] == ("203.0.113.77", "GET /offers/default/42?amount=1000 HTTP/1.1", "200", "5")
    assert fields[1][0] == "unix"
    assert [f[0] for f in fields[2:4]] == ["2001:db8:aa::", "203.0.113.0"]
    assert re.fullmatch(r"[0-9a-f]{16}", fields[4][0])
    assert "203.0.113" not in lines[4]


def test_clf_time_is_the_local_time_of_this_second() -> None:
    before = datetime.now().astimezone().replace(microsecond=0)
    stamp = clf_time()
    after = datetime.now().astimezone()
    parsed = datetime.strptime(stamp, "%d/%b/%Y:%H:%M:%S %z")
    assert before <= parsed <= after  # neither stale nor in another time zone


async def test_inflight_counts_calls_per_backend() -> None:
    cfg = TelemetryConfig(prometheus_listen="127.0.0.1:0", otlp_endpoint="")
    async with open_metrics(cfg) as metrics:
        assert metrics.prometheus_address is not None
        for delta in (1, 1, 1, -1):
            metrics.inflight(BACKEND, delta)
        metrics.inflight("other", 1)
        metrics.inflight("other", -1)
        _, body = await _scrape(metrics.prometheus_address)
    values = {
        sample.labels["switchgear_backend_id"]: sample.value
        for family in text_string_to_metric_families(body)
        if family.name == "switchgear_backend_inflight"
        for sample in family.samples
    }
    assert values == {BACKEND: 2, "other": 0}
