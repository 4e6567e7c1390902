"""Rate-limiter overhead benchmark (not a test): first-call throughput with and without it.

Serves the real public app (``create_lnurl_app`` over a fake offer store) twice, each in
its own server process with hypercorn (``serve_asgi``, as the daemon does): once without a
limiter and once with the default ``[ratelimit]`` limits raised so nothing is refused,
behind a trusted proxy (127.0.0.1) whose X-Forwarded-For names a new client for every
request (the worst case: each one resolves a header and inserts a key). A client in this
process sends first calls (``GET /offers/p/id``) over keep-alive connections; rounds
alternate between the two servers (and which goes first) so machine noise hits both; the
median round is reported. ``--asgi`` measures in-process through ASGI, without sockets.

Run: ``.venv/bin/python bench/ratelimit.py [--requests N] [--rounds R] [--asgi]``. Prints a
Markdown block for ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
import uuid
from dataclasses import replace
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


async def _one(app: Any, index: int) -> int:
    scope = {"type": "http", "method": "GET", "path": PATH, "raw_path": PATH.encode(),
             "scheme": "https", "http_version": "1.1", "query_string": b"",
             "headers": [(b"host", b"pay.example.com")], "root_path": "",
             "client": (f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}", 4000),
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


async def _round(limiter: Limiter | None, requests: int, offset: int) -> float:
    deps = LnurlDeps(offers=Offers(), invoices=Unused(), verifier=Unused(), limiter=limiter)  # type: ignore[arg-type]
    app = create_lnurl_app(deps, LnurlConfig(allowed_hosts=("pay.example.com",)))
    started = time.perf_counter()
    for index in range(requests):
        assert await _one(app, offset + index) == 200
    return requests / (time.perf_counter() - started)


def _limits() -> RateLimitConfig:
    generous = RateLimitRuleConfig(rate="1000000/s", burst=1_000_000)
    return replace(RateLimitConfig(), offer=replace(RateLimitConfig().offer, total=generous))


# -- over HTTP ------------------------------------------------------------------------------


async def serve(with_limiter: bool) -> None:
    """Child process: serve the app on 127.0.0.1:0, print the port, run until killed."""
    async with open_limiter(_limits(), trusted_proxies=("127.0.0.1",)) as limiter:
        deps = LnurlDeps(offers=Offers(), invoices=Unused(), verifier=Unused(),  # type: ignore[arg-type]
                         limiter=limiter if with_limiter else None)  # fmt: skip
        cfg = LnurlConfig(allowed_hosts=("pay.example.com",), trusted_proxies=("127.0.0.1",))
        app = create_lnurl_app(deps, cfg)
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(
                partial(serve_asgi, app, binds=["127.0.0.1:0"],
                        shutdown_trigger=trio.sleep_forever, graceful_timeout=1.0)
            )  # fmt: skip
            gc.freeze()  # as `switchgeard run` does once serving (daemon/process.py)
            print(binds[0].rsplit(":", 1)[1], flush=True)


async def _connection(port: int, first: int, count: int) -> None:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        buffer = b""
        for index in range(first, first + count):
            client = f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}"
            await stream.send_all(
                f"GET {PATH} HTTP/1.1\r\nHost: pay.example.com\r\n"
                f"X-Forwarded-For: {client}\r\n\r\n".encode()
            )
            while b"\r\n\r\n" not in buffer:
                buffer += await stream.receive_some(65536)
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head[:40]
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(buffer) < length:
                buffer += await stream.receive_some(65536)
            buffer = buffer[length:]


async def _http_round(port: int, requests: int, offset: int, connections: int) -> float:
    each = requests // connections
    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for n in range(connections):
            nursery.start_soon(_connection, port, offset + n * each, each)
    return each * connections / (time.perf_counter() - started)


async def _start_server(nursery: trio.Nursery, with_limiter: bool) -> tuple[trio.Process, int]:
    argv = [sys.executable, __file__, "serve", "--limiter" if with_limiter else "--no-limiter"]
    process = await nursery.start(partial(trio.run_process, argv, stdout=-1, check=False))
    assert process.stdout is not None
    line = b""
    while not line.endswith(b"\n"):
        line += await process.stdout.receive_some(64)
    return process, int(line)


async def main_http(requests: int, rounds: int, connections: int) -> None:
    without, with_limiter = [], []
    async with trio.open_nursery() as nursery:
        (plain, plain_port), (limited, limited_port) = [
            await _start_server(nursery, flag) for flag in (False, True)
        ]
        for port in (plain_port, limited_port):  # warm-up
            await _http_round(port, 400, 0, connections)
        for n in range(rounds):
            offset = (n + 1) * requests
            order = [(plain_port, without), (limited_port, with_limiter)]
            for port, results in order if n % 2 == 0 else order[::-1]:
                results.append(await _http_round(port, requests, offset, connections))
        plain.kill()
        limited.kill()
    how = f"over HTTP/1.1 (hypercorn, {connections} keep-alive connections, server processes)"
    _report(without, with_limiter, requests, rounds, how, "--requests {r} --rounds {n}")


# -- in-process ASGI ------------------------------------------------------------------------


async def main_asgi(requests: int, rounds: int) -> None:
    without, with_limiter = [], []
    async with open_limiter(_limits()) as limiter:
        await _round(limiter, 200, 0)  # warm-up
        await _round(None, 200, 0)
        for n in range(rounds):
            without.append(await _round(None, requests, 0))
            with_limiter.append(await _round(limiter, requests, (n + 1) * requests))
    _report(without, with_limiter, requests, rounds, "in-process ASGI", "--asgi")


def _report(
    without: list[float], limited_rounds: list[float], requests: int, rounds: int,
    how: str, flags: str,
) -> None:  # fmt: skip
    base, limited = statistics.median(without), statistics.median(limited_rounds)
    # Each round measures both back to back: the median of the per-round shares is robust
    # to load that drifts between rounds (other jobs on the machine).
    paired = statistics.median(1 - w / b for b, w in zip(without, limited_rounds, strict=True))
    overhead = 100 * paired
    per_request_us = (1 / limited - 1 / base) * 1e6
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    flags = flags.format(r=requests, n=rounds)
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, nproc {os.cpu_count()}, "
          f"Python {platform.python_version()} (`.venv/bin/python bench/ratelimit.py {flags}`; "
          f"{how}; first calls, a new client address per request).\n")  # fmt: skip
    print("| app | first calls per second (median of rounds) | rounds |\n| --- | ---: | --- |")
    print(f"| no limiter | {base:,.0f} | {', '.join(f'{x:,.0f}' for x in without)} |")
    print(f"| default limits (none refused) | {limited:,.0f} | "
          f"{', '.join(f'{x:,.0f}' for x in limited_rounds)} |\n")  # fmt: skip
    print(f"Limiter overhead (median of the rounds' paired shares): {overhead:.1f} % of "
          "first-call throughput "
          f"({per_request_us:.1f} µs per request); target ≤ 5 %. "
          f"Load average after: {load}.")  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        trio.run(serve, "--limiter" in sys.argv)
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--asgi", action="store_true", help="in-process ASGI, no sockets")
    args = parser.parse_args()
    if args.asgi:
        trio.run(main_asgi, args.requests, args.rounds)
    else:
        trio.run(main_http, args.requests, args.rounds, args.connections)
