"""Two running daemons share one per-client limit through Redis, and fail open without it.

A throwaway ``redis-server`` runs on a free loopback port; two daemons (each with its own
public listener, admin socket and Prometheus listener, one SQLite store) use it with a
small per-client limit on the ``offer`` class. One client alternating between them gets
the shared budget once, not once per daemon. With the server stopped both keep answering
(no 429, no 500), say so in a WARNING and in ``switchgear_ratelimit_fail_open``; once it is
back on the same port the shared limit holds again.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import httpx
import pytest
import trio
from e2e_world import OFFER_PATH, TIMING
from prometheus_client.parser import text_string_to_metric_families

from switchgeard.config import load_config
from switchgeard.daemon.compose import DaemonAddresses, run_daemon
from switchgeard.daemon.demo import seed_demo
from switchgeard.lightning import open_bridge
from switchgeard.store import open_store
from switchgeard.testing.fake_cln import serve_fake_cln
from switchgeard.testing.fake_lnd import serve_fake_lnd

REDIS_SERVER = shutil.which("redis-server")
pytestmark = [
    pytest.mark.deadline(30),
    pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed"),
]

BURST = 3
UNKNOWN_OFFER = "/offers/default/00000000-0000-4000-8000-000000000000"
STORES_LOGGER = "switchgeard.ratelimit.stores"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _answers_ping(port: int) -> bool:
    try:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
    except OSError:
        return False
    async with stream:
        await stream.send_all(b"PING\r\n")
        try:
            return (await stream.receive_some(64)).startswith(b"+PONG")
        except trio.BrokenResourceError:
            return False


@asynccontextmanager
async def open_redis_server(workdir: Path, port: int) -> AsyncIterator[trio.Process]:
    """A redis-server without persistence on ``127.0.0.1:port``, answering PING; killed on exit."""
    await trio.Path(workdir).mkdir(exist_ok=True)
    assert REDIS_SERVER is not None
    args = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(workdir), "--logfile", "redis.log"]  # fmt: skip
    process = await trio.lowlevel.open_process(args, stdin=subprocess.DEVNULL)
    try:
        with trio.fail_after(5):
            while not await _answers_ping(port):
                if process.poll() is not None:
                    log = await trio.Path(workdir / "redis.log").read_text()
                    pytest.fail(f"redis-server exited with {process.returncode}:\n{log}")
                await trio.sleep(0.02)
        yield process
    finally:
        await stop_process(process)


async def stop_process(process: trio.Process) -> None:
    """SIGTERM, then SIGKILL if it has not exited after 5 s (also when the caller is cancelled)."""
    with trio.CancelScope(shield=True):
        if process.returncode is None:
            process.terminate()
        with trio.move_on_after(5):
            await process.wait()
        if process.returncode is None:
            process.kill()
            await process.wait()


def _write_config(tmp: Path, name: str, redis_port: int) -> Path:
    """Daemon ``name``'s config: its own listeners and admin socket, the shared store and Redis."""
    balancer = ["[balancer]"] + [f"{k} = {json.dumps(v)}" for k, v in TIMING.items()
                                 if not isinstance(v, dict)]  # fmt: skip
    for key, section in TIMING.items():
        if isinstance(section, dict):
            balancer += [f"[balancer.{key}]"] + [
                f"{k} = {json.dumps(v)}" for k, v in section.items()
            ]
    lines = [
        "[store]", f'url = "sqlite://{tmp / "switchgeard.db"}"',
        "[admin]", f'socket = "{tmp / f"admin-{name}.sock"}"',
        "[lightning]", 'network = "regtest"', 'call_timeout = "2s"',
        "[lnurl]", 'listen = ["127.0.0.1:0"]',
        "[telemetry]", 'prometheus_listen = "127.0.0.1:0"',
        "[ratelimit]", 'backend = "redis"', f'redis_url = "redis://127.0.0.1:{redis_port}/0"',
        "[ratelimit.offer.per_client]", 'rate = "1/m"', f"burst = {BURST}",
    ]  # fmt: skip
    path = tmp / f"{name}.toml"
    path.write_text("\n".join(lines + balancer) + "\n", "utf-8")
    return path


@asynccontextmanager
async def open_two_daemons(tmp: Path, redis_port: int) -> AsyncIterator[list[DaemonAddresses]]:
    """Two daemons on one store (seeded with the demo offer) and one Redis, with fake nodes."""
    configs = [load_config(_write_config(tmp, name, redis_port)) for name in ("a", "b")]
    async with open_bridge(), trio.open_nursery() as nursery:
        lnd = await nursery.start(serve_fake_lnd, tmp / "lnd")
        cln = await nursery.start(serve_fake_cln, tmp / "cln")
        async with open_store(configs[0].store) as store:
            await seed_demo(store, lnd, cln)
        yield [await nursery.start(partial(run_daemon, config)) for config in configs]
        nursery.cancel_scope.cancel()


async def _alternate(
    http: httpx.AsyncClient, daemons: list[DaemonAddresses], count: int, path: str = OFFER_PATH
) -> list[httpx.Response]:
    """``count`` requests from one client (127.0.0.1), to daemon a, b, a, b, ..."""
    return [await http.get(daemons[n % 2].lnurl[0] + path) for n in range(count)]


async def _ratelimit_gauges(http: httpx.AsyncClient, daemon: DaemonAddresses) -> dict[str, float]:
    response = await http.get(f"http://{daemon.metrics}/metrics")
    assert response.status_code == 200, response.text
    wanted = ("switchgear_ratelimit_fail_open", "switchgear_ratelimit_backend_up")
    return {
        family.name: sample.value  # the counter's sample is named ..._total
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if family.name in wanted and sample.labels["switchgear_ratelimit_backend"] == "redis"
    }


async def _wait_gauges(
    http: httpx.AsyncClient, daemons: list[DaemonAddresses], *, up: bool, fail_open: int
) -> list[dict[str, float]]:
    """Scrape both daemons until they report these values (snapshots refresh every second);
    after 3 s, what they report, for the caller's assertion to show."""
    expected = {"switchgear_ratelimit_backend_up": float(up),
                "switchgear_ratelimit_fail_open": float(fail_open)}  # fmt: skip
    gauges: list[dict[str, float]] = []
    with trio.move_on_after(3):
        while True:
            gauges = [await _ratelimit_gauges(http, daemon) for daemon in daemons]
            if gauges == [expected, expected]:
                break
            await trio.sleep(0.1)
    return gauges


def _assert_shared_budget(responses: list[httpx.Response]) -> None:
    statuses = [response.status_code for response in responses]
    assert statuses == [200] * BURST + [429] * (len(responses) - BURST), statuses
    for response in responses[BURST:]:
        assert 1 <= int(response.headers["retry-after"]) <= 60
        assert response.headers["content-type"] == "application/json"
        assert response.headers["access-control-allow-origin"] == "*"
        body = response.json()
        assert body["status"] == "ERROR" and "Too many requests" in body["reason"]


def _warnings(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == STORES_LOGGER and text in r.getMessage()]


async def test_two_daemons_share_one_limit_and_fail_open_without_redis(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=STORES_LOGGER)
    port = _free_port()
    with trio.fail_after(20):
        async with (
            open_two_daemons(tmp_path, port) as daemons,
            httpx.AsyncClient(timeout=5) as http,
        ):
            async with open_redis_server(tmp_path / "redis", port) as redis_server:
                shared = await _alternate(http, daemons, 2 * BURST + 2)
                before = await _wait_gauges(http, daemons, up=True, fail_open=0)
                await stop_process(redis_server)
                outage = await _alternate(http, daemons, 8)
                unknown = await _alternate(http, daemons, 4, UNKNOWN_OFFER)
                during = await _wait_gauges(http, daemons, up=False, fail_open=6)
            async with open_redis_server(tmp_path / "redis", port):
                await trio.sleep(1.1)  # the stores ask a failed Redis again after 1 s
                again = await _alternate(http, daemons, 2 * BURST + 2)
                after = await _wait_gauges(http, daemons, up=True, fail_open=6)
    _assert_shared_budget(shared)
    assert before == [{"switchgear_ratelimit_backend_up": 1.0,
                       "switchgear_ratelimit_fail_open": 0.0}] * 2  # fmt: skip
    assert [r.status_code for r in outage] == [200] * 8
    assert [r.status_code for r in unknown] == [404] * 4
    # Each daemon answered 6 requests without limits, and says Redis is down.
    assert during == [{"switchgear_ratelimit_backend_up": 0.0,
                       "switchgear_ratelimit_fail_open": 6.0}] * 2  # fmt: skip
    assert len(_warnings(caplog, "Redis unreachable, failing open")) == 2  # once per daemon
    _assert_shared_budget(again)
    assert after == [{"switchgear_ratelimit_backend_up": 1.0,
                      "switchgear_ratelimit_fail_open": 6.0}] * 2  # fmt: skip
    assert len(_warnings(caplog, "Redis is reachable again")) == 2
    assert all(r.levelno == logging.WARNING for r in caplog.records if r.name == STORES_LOGGER)
