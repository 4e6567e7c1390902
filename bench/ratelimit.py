"""Rate-limiter overhead benchmark (not a test): first-call throughput with and without it.

Serves the real public app (``create_lnurl_app`` over a fake offer store) twice, each in
its own server process with hypercorn (``serve_asgi``, as the daemon does): once without a
limiter and once with the default ``[ratelimit]`` limits raised so nothing is refused,
behind a trusted proxy (127.0.0.1) whose X-Forwarded-For names a new client for every
request (the worst case: each one resolves a header and inserts a key). A client in this
process sends first calls (``GET /offers/p/id``) over keep-alive connections in rounds of
a few seconds, alternating between the two servers in ABBA order so that drift in the
machine's speed hits both alike. Per round it records the server's throughput and its own
CPU time per first call (``/proc/<pid>/stat``: unlike throughput, not moved by whatever
else the machine runs); the medians of the rounds' paired shares are reported.
``--asgi`` measures in-process through ASGI, without sockets.

Run: ``.venv/bin/python bench/ratelimit.py [--seconds S] [--rounds R] [--asgi]``. Prints a
Markdown block for ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

import trio

from switchgeard.config.model import LnurlConfig, RateLimitConfig, RateLimitRuleConfig
from switchgeard.daemon.http import serve_asgi
from switchgeard.errors import NotFound
from switchgeard.lnurl.app import LnurlDeps, create_lnurl_app
from switchgeard.ratelimit import Limiter, open_limiter
from switchgeard.store.records import Metadata, Offer
from switchgeard.units import Msat

OFFER_ID = uuid.UUID("b3e1c7a0-0000-4000-8000-00000000be11")  # same in the server processes
META = Metadata(partition="default", id=uuid.uuid4(), text="coffee")
OFFER = Offer(partition="default", id=OFFER_ID, min_sendable=Msat(1000),
              max_sendable=Msat(1_000_000), metadata_id=META.id,
              timestamp=datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
PATH = f"/offers/default/{OFFER_ID}"


class Offers:
    async def get_offer_with_metadata(self, partition: str, id: uuid.UUID) -> Any:
        if id != OFFER_ID:
            raise NotFound("offer")
        return OFFER, META


class Unused:
    consistent_key = "comment"

    def selectable(self, partition: str) -> bool:
        return True


def _client(index: int) -> bytes:
    """The address of client number ``index``: every first call comes from a new one."""
    return f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}".encode()


async def _one(app: Any, index: int) -> int:
    scope = {"type": "http", "method": "GET", "path": PATH, "raw_path": PATH.encode(),
             "scheme": "https", "http_version": "1.1", "query_string": b"",
             "headers": [(b"host", b"pay.example.com"), (b"x-forwarded-for", _client(index))],
             "root_path": "", "client": ("127.0.0.1", 4000),
             "server": ("127.0.0.1", 443)}  # fmt: skip
    status = 0
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:
            await trio.sleep_forever()
        received = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _asgi_round(limiter: Limiter | None, requests: int, offset: int) -> float:
    deps = LnurlDeps(offers=Offers(), invoices=Unused(), verifier=Unused(), limiter=limiter)  # type: ignore[arg-type]
    app = create_lnurl_app(deps, _lnurl_config())
    started = time.process_time()
    for index in range(requests):
        assert await _one(app, offset + index) == 200
    return requests / (time.process_time() - started)


def _lnurl_config() -> LnurlConfig:
    return LnurlConfig(allowed_hosts=("pay.example.com",), trusted_proxies=("127.0.0.1",))


def _limits() -> RateLimitConfig:
    generous = RateLimitRuleConfig(rate="1000000/s", burst=1_000_000)
    return replace(RateLimitConfig(), offer=replace(RateLimitConfig().offer, total=generous))


# -- over HTTP ------------------------------------------------------------------------------


async def serve(with_limiter: bool) -> None:
    """Child process: serve the app on 127.0.0.1:0, print the port, run until killed."""
    async with open_limiter(_limits(), trusted_proxies=("127.0.0.1",)) as limiter:
        deps = LnurlDeps(offers=Offers(), invoices=Unused(), verifier=Unused(),  # type: ignore[arg-type]
                         limiter=limiter if with_limiter else None)  # fmt: skip
        app = create_lnurl_app(deps, _lnurl_config())
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(
                partial(serve_asgi, app, binds=["127.0.0.1:0"],
                        shutdown_trigger=trio.sleep_forever, graceful_timeout=1.0)
            )  # fmt: skip
            gc.freeze()  # as `switchgeard run` does once serving (daemon/process.py)
            print(binds[0].rsplit(":", 1)[1], flush=True)


async def _connection(port: int, clients: Iterator[int], deadline: float, done: list[int]) -> None:
    """First calls over one keep-alive connection until ``deadline``, each from the next
    client address of ``clients``; counts completed calls in ``done[0]``."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        buffer = b""
        while trio.current_time() < deadline:
            await stream.send_all(
                f"GET {PATH} HTTP/1.1\r\nHost: pay.example.com\r\nX-Forwarded-For: ".encode()
                + _client(next(clients))
                + b"\r\n\r\n"
            )
            while b"\r\n\r\n" not in buffer:
                buffer += await stream.receive_some(65536)
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head[:40]
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(buffer) < length:
                buffer += await stream.receive_some(65536)
            buffer = buffer[length:]
            done[0] += 1


async def _start_server(nursery: trio.Nursery, with_limiter: bool) -> Server:
    argv = [sys.executable, __file__, "serve", "--limiter" if with_limiter else "--no-limiter"]
    process = await nursery.start(partial(trio.run_process, argv, stdout=-1, check=False))
    assert process.stdout is not None
    line = b""
    while not line.endswith(b"\n"):
        line += await process.stdout.receive_some(64)
    return Server(process, int(line), itertools.count(1 if with_limiter else 1 << 23))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc/<pid>/stat``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    process: trio.Process
    port: int
    clients: Iterator[int]
    """Client numbers: every first call comes from a new address."""


@dataclass(frozen=True)
class Sample:
    """One server's share of a round: first calls per second, its CPU µs per first call."""

    rate: float
    cpu_us: float


async def _round(server: Server, seconds: float, connections: int) -> Sample:
    """Load one server for ``seconds``: its first calls per second and CPU per call."""
    done = [0]
    cpu = _cpu_seconds(server.process.pid)
    started = trio.current_time()
    deadline = started + seconds
    async with trio.open_nursery() as nursery:
        for _ in range(connections):
            nursery.start_soon(_connection, server.port, server.clients, deadline, done)
    elapsed = trio.current_time() - started
    used = _cpu_seconds(server.process.pid) - cpu
    return Sample(done[0] / elapsed, used / done[0] * 1e6)


async def main_http(seconds: float, rounds: int, connections: int) -> None:
    without: list[Sample] = []
    with_limiter: list[Sample] = []
    async with trio.open_nursery() as nursery:
        plain, limited = [await _start_server(nursery, flag) for flag in (False, True)]
        for server in (plain, limited):  # warm-up
            await _round(server, 1.0, connections)
        for n in range(rounds):  # ABBA order: drift in the machine's speed hits both alike
            order = [(plain, without), (limited, with_limiter)]
            for server, samples in order if n % 2 == 0 else order[::-1]:
                samples.append(await _round(server, seconds, connections))
        for server in (plain, limited):
            server.process.kill()
    how = (
        f"over HTTP/1.1 (hypercorn server processes, {connections} keep-alive connections, "
        f"{seconds:g} s rounds alternating between the servers)"
    )
    _report(
        [sample.rate for sample in without],
        [sample.rate for sample in with_limiter],
        how, f"--seconds {seconds:g} --rounds {rounds}",
    )  # fmt: skip
    _report_cpu([sample.cpu_us for sample in without], [sample.cpu_us for sample in with_limiter])


def _report_cpu(without: list[float], limited: list[float]) -> None:
    """The server processes' own CPU per first call: the limiter's cost per request, and
    what it takes from a saturated server's first-call throughput (1 / CPU per call)."""
    paired = statistics.median(w / b - 1 for b, w in zip(without, limited, strict=True))
    print(
        f"\nServer CPU per first call (`/proc/<pid>/stat`), µs per round: no limiter "
        f"{', '.join(f'{x:.0f}' for x in without)}; with the limiter "
        f"{', '.join(f'{x:.0f}' for x in limited)}. Medians {statistics.median(without):.0f}"
        f" vs {statistics.median(limited):.0f} µs: the limiter adds {100 * paired:.1f} % CPU "
        "per first call (median of the rounds' paired shares), so a saturated server answers "
        f"**{100 * paired / (1 + paired):.1f} % fewer first calls** (target ≤ 5 %)."
    )


# -- in-process ASGI ------------------------------------------------------------------------


async def main_asgi(requests: int, rounds: int) -> None:
    without, with_limiter = [], []
    async with open_limiter(_limits(), trusted_proxies=("127.0.0.1",)) as limiter:
        await _asgi_round(limiter, 200, 0)  # warm-up
        await _asgi_round(None, 200, 0)
        for n in range(rounds):
            without.append(await _asgi_round(None, requests, 0))
            with_limiter.append(await _asgi_round(limiter, requests, (n + 1) * requests))
    _report(
        without, with_limiter, "in-process ASGI", f"--asgi --requests {requests} --rounds {rounds}"
    )


def _report(without: list[float], limited_rounds: list[float], how: str, flags: str) -> None:
    base, limited = statistics.median(without), statistics.median(limited_rounds)
    # The median of the per-round shares is robust to load that drifts between rounds.
    paired = statistics.median(1 - w / b for b, w in zip(without, limited_rounds, strict=True))
    overhead = 100 * paired
    per_request_us = (1 / limited - 1 / base) * 1e6
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, nproc {os.cpu_count()}, "
          f"Python {platform.python_version()} (`.venv/bin/python bench/ratelimit.py {flags}`; "
          f"{how}; first calls, a new client address per request).\n")  # fmt: skip
    print("| app | first calls per second (median of rounds) | rounds |\n| --- | ---: | --- |")
    print(f"| no limiter | {base:,.0f} | {', '.join(f'{x:,.0f}' for x in without)} |")
    print(f"| default limits (none refused) | {limited:,.0f} | "
          f"{', '.join(f'{x:,.0f}' for x in limited_rounds)} |\n")  # fmt: skip
    target = "target ≤ 5 % (over HTTP)" if "HTTP" in how else "no socket: not the target's measure"
    print(f"Limiter overhead (median of the rounds' paired shares): {overhead:.1f} % of "
          f"first-call throughput ({per_request_us:.1f} µs per request); {target}. "
          f"Load average after: {load}.")  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        trio.run(serve, "--limiter" in sys.argv)
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of an HTTP round")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--connections", type=int, default=8, help="per server")
    parser.add_argument("--asgi", action="store_true", help="in-process ASGI, no sockets")
    parser.add_argument("--requests", type=int, default=4000, help="per --asgi round")
    args = parser.parse_args()
    if not (0.5 <= args.seconds <= 30 and 1 <= args.rounds <= 50 and args.requests <= 100_000):
        parser.error("the bench is bounded: --seconds 0.5-30, --rounds 1-50, --requests ≤ 100000")
    if args.asgi:
        trio.run(main_asgi, args.requests, args.rounds)
    else:
        trio.run(main_http, args.seconds, args.rounds, args.connections)
