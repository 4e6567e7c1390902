"""Getting metrics out: a tiny Prometheus listener on trio, an ASGI ``/metrics`` app for
mounting elsewhere, and the OTLP/HTTP push reader (which runs in its own thread)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import trio
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from switchgeard.errors import ConfigError, ListenError

log = logging.getLogger(__name__)

_HEAD_LIMIT = 8192
_READ_TIMEOUT = 10.0


def parse_listen(text: str, *, key: str = "telemetry.prometheus_listen") -> tuple[str, int]:
    """Split "host:port" or "[v6]:port" into host and port; ConfigError names ``key``."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f'expected "host:port", got {text!r}', key=key)
    return host, int(port)


def _response(status: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _read_head(stream: trio.SocketStream) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < _HEAD_LIMIT:
        chunk = await stream.receive_some(_HEAD_LIMIT)
        if not chunk:
            break
        data += chunk
    return data


async def _handle(stream: trio.SocketStream, registry: CollectorRegistry) -> None:
    async with stream:
        with trio.move_on_after(_READ_TIMEOUT):
            try:
                request_line = (await _read_head(stream)).split(b"\r\n", 1)[0].split()
                if len(request_line) == 3 and request_line[:2] == [b"GET", b"/metrics"]:
                    reply = _response("200 OK", generate_latest(registry), CONTENT_TYPE_LATEST)
                else:
                    reply = _response("404 Not Found", b"not found\n", "text/plain")
                await stream.send_all(reply)
            except trio.BrokenResourceError:
                log.debug("metrics scraper went away")


async def serve_prometheus(
    registry: CollectorRegistry,
    listen: str,
    *,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``GET /metrics`` on ``listen`` until cancelled; reports the bound "host:port"."""
    host, port = parse_listen(listen)
    try:
        listeners = await trio.open_tcp_listeners(port, host=host)
    except OSError as exc:
        # in use or not bindable now: a listen failure (exit 1, restarted), not a bad config
        raise ListenError(f"telemetry.prometheus_listen: cannot listen on {listen}: {exc}") from exc
    sockname = listeners[0].socket.getsockname()
    bound = (
        f"[{sockname[0]}]:{sockname[1]}" if ":" in sockname[0] else f"{sockname[0]}:{sockname[1]}"
    )
    log.info("metrics: Prometheus endpoint on http://%s/metrics", bound)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, lambda s: _handle(s, registry), listeners)
        task_status.started(bound)


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def metrics_app(registry: CollectorRegistry) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app answering every HTTP request with the Prometheus exposition."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = generate_latest(registry)
        headers = [(b"content-type", CONTENT_TYPE_LATEST.encode()),
                   (b"content-length", str(len(body)).encode())]  # fmt: skip
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def otlp_reader(endpoint: str, *, interval: float) -> PeriodicExportingMetricReader:
    """Push metrics to an OTLP/HTTP collector (``.../v1/metrics``) every ``interval`` s."""
    if not endpoint.startswith(("http://", "https://")):
        raise ConfigError(
            f"expected an http(s) URL, got {endpoint!r}", key="telemetry.otlp_endpoint"
        )
    exporter = OTLPMetricExporter(endpoint=endpoint, timeout=min(10.0, interval))
    return PeriodicExportingMetricReader(exporter, export_interval_millis=interval * 1000)
