"""LNURL service benchmark (not a test): bounded, loopback only.

Starts two fake nodes (LND and CLN) and the daemon, each in its own process, plus a bare
quart-trio app returning a constant payRequest as the baseline, then measures with a raw
HTTP/1.1 keep-alive client at 32 concurrent connections:

* first-call throughput and p50/p99, daemon vs baseline;
* callback throughput and p50/p99 (every callback creates a real signed invoice);
* the balancer's own cost: ``Balancer.issue_invoice`` (pick, health and counter
  bookkeeping, ledger write) minus the adapter's ``create_invoice`` on the same
  connections, both sequential, in this process;
* the end-to-end service overhead: sequential callback latency minus that direct call.

The daemon runs with a production-shaped config: log files (``--log-level info`` writes
an access line per request), metrics recorded, the rate limiter on with limits the
load cannot reach.

With two or more CPUs the server under test (the daemon, or the baseline app in its
run) gets the last CPU to itself, and the load generator and the fake nodes share the
others (``os.sched_setaffinity``), as a benchmark on one host should keep them apart:
otherwise the scheduler moves the single-threaded daemon between cores shared with five
busy processes and the figures measure that contention. The report gives each process's
CPU time per callback, read from ``/proc``.

Run: ``.venv/bin/python bench/lnurl.py [--requests N] [--rounds R] [--log-level LEVEL]``
(the callback run is repeated ``R`` times, 3 by default, and the target is checked on
the median p99: a shared VM's speed can drift by a quarter between runs). Prints a
Markdown block for ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio

HOST = "127.0.0.1"
CONCURRENCY = 32
REPO = Path(__file__).resolve().parents[1]


# -- a raw HTTP/1.1 keep-alive client ---------------------------------------------------


@dataclass
class Run:
    latencies: list[float]
    errors: int
    seconds: float

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000

    def row(self, name: str) -> str:
        return (
            f"| {name} | {len(self.latencies)} | {self.rps:.0f} | {self.pct(0.5):.1f} "
            f"| {self.pct(0.99):.1f} | {self.errors} |"
        )


class Connection:
    def __init__(self, stream: trio.SocketStream, port: int) -> None:
        self.stream = stream
        self.port = port
        self.buffer = b""

    async def get(self, path: str) -> tuple[int, bytes]:
        request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n\r\n"
        await self.stream.send_all(request.encode())
        while b"\r\n\r\n" not in self.buffer:
            await self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = next(
            int(line.split(b":", 1)[1])
            for line in lines
            if line.lower().startswith(b"content-length:")
        )
        while len(self.buffer) < length:
            await self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, body

    async def _fill(self) -> None:
        data = await self.stream.receive_some(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buffer += data


async def load(port: int, path_for: Callable[[int], str], total: int, concurrency: int) -> Run:
    """``total`` GETs over ``concurrency`` keep-alive connections; a non-200 is an error."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))

    async def worker() -> None:
        nonlocal errors
        conn = Connection(await trio.open_tcp_stream(HOST, port), port)
        async with conn.stream:
            for index in counter:
                started = time.perf_counter()
                status, body = await conn.get(path_for(index))
                latencies.append(time.perf_counter() - started)
                errors += status != 200 or b'"ERROR"' in body

    started = time.perf_counter()
    with trio.fail_after(300):
        async with trio.open_nursery() as nursery:
            for _ in range(concurrency):
                nursery.start_soon(worker)
    return Run(latencies, errors, time.perf_counter() - started)


# -- the baseline: a bare quart-trio app -------------------------------------------------


def serve_baseline(port: int) -> None:
    """A quart-trio app on hypercorn that answers every GET with one constant payRequest."""
    from hypercorn.config import Config
    from hypercorn.trio import serve
    from quart import Response
    from quart_trio import QuartTrio

    app = QuartTrio("baseline")
    body = json.dumps(
        {
            "callback": f"http://{HOST}:{port}/cb",
            "maxSendable": 1_000_000,
            "minSendable": 1000,
            "tag": "payRequest",
            "metadata": '[["text/plain","bench"]]',
        }
    )

    @app.get("/offers/<partition>/<id>")
    async def offer(partition: str, id: str) -> Response:
        return Response(body, content_type="application/json")

    config = Config()
    config.bind = [f"{HOST}:{port}"]
    config.accesslog = None
    config.errorlog = None
    trio.run(serve, app, config)


# -- processes ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)


@functools.cache
def server_cpus() -> tuple[set[int], set[int]]:
    """(the server under test's CPUs, everyone else's): the last CPU against the rest,
    or all CPUs for both on a single-CPU machine."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return set(cpus), set(cpus)
    return {cpus[-1]}, set(cpus[:-1])


def pin(pid: int, cpus: set[int]) -> None:
    """Move every thread of process ``pid`` (and the threads it starts later) to ``cpus``."""
    for task in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(task), cpus)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all threads), from ``/proc``."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_http(port: int, path: str, seconds: float = 30) -> None:
    with trio.fail_after(seconds):
        while True:
            try:
                stream = await trio.open_tcp_stream(HOST, port)
            except OSError:
                await trio.sleep(0.1)
                continue
            async with stream:
                status, _ = await Connection(stream, port).get(path)
            if status == 200:
                return
            await trio.sleep(0.1)


OFFER_ID = uuid.UUID("be7c0000-0000-4000-8000-000000000001")


async def start_fake(
    kind: str, directory: Path, procs: list[subprocess.Popen[bytes]]
) -> dict[str, Any]:
    args = [sys.executable, "-m", "switchgeard.testing.fakenode", kind, "--dir", str(directory)]
    await trio.Path(directory).mkdir(parents=True)
    procs.append(spawn(args, directory.with_suffix(".log")))
    info = directory / "info.json"
    with trio.fail_after(30):
        while not await trio.Path(info).exists():
            await trio.sleep(0.05)
    return dict(json.loads(info.read_text()))


def backend_record(info: dict[str, Any], name: str) -> Any:
    from switchgeard.testing.records import backend_from_info

    return backend_from_info(info, name)


async def seed(config_path: Path, nodes: list[dict[str, Any]]) -> None:
    from switchgeard.config import load_config
    from switchgeard.store import open_store
    from switchgeard.store.records import Metadata, Offer
    from switchgeard.units import Msat

    config = load_config(config_path)
    async with open_store(config.store) as store:
        for info in nodes:
            await store.put_backend(backend_record(info, f"bench-{info['kind']}"))
        await store.put_metadata(Metadata(partition="default", id=OFFER_ID, text="bench ☕"))
        await store.put_offer(
            Offer(
                partition="default",
                id=OFFER_ID,
                min_sendable=Msat(1000),
                max_sendable=Msat(1_000_000_000),
                metadata_id=OFFER_ID,
                timestamp=datetime(2020, 1, 1, tzinfo=UTC),
            )
        )


UNLIMITED = 'rate = "1000000/s"\nburst = 1000000\n'


def daemon_config(tmp: Path, port: int, log_level: str) -> str:
    """A production-shaped config: access log and service logs in files, metrics recorded
    (no exporter port), the rate limiter on with limits one client cannot reach."""
    limits = "".join(
        f"[ratelimit.{name}.{scope}]\n{UNLIMITED}"
        for name in ("offer", "invoice")
        for scope in ("total", "per_client")
    )
    return (
        f'[store]\nurl = "sqlite://{tmp / "bench.db"}"\n'
        f'[lnurl]\nlisten = ["{HOST}:{port}"]\n'
        f'[admin]\nsocket = "{tmp / "admin.sock"}"\n'
        '[lightning]\nnetwork = "regtest"\n'
        f'[logging]\nlevel = "{log_level}"\ndir = "{tmp / "logs"}"\n'
        '[telemetry]\nprometheus_listen = ""\n'
        f"[ratelimit]\nenabled = true\n{limits}"
    )


WARMUP = 20
METADATA = '[["text/plain","bench"]]'


async def balancer_vs_direct(
    tmp: Path, nodes: list[dict[str, Any]], count: int
) -> tuple[list[float], list[float]]:
    """Alternating sequential calls in this process: ``Balancer.issue_invoice`` (pick, health
    and counter bookkeeping, the ledger write into its own SQLite store), then the chosen
    kind of node's adapter directly, over the same connections. Returns both latency lists."""
    from switchgeard.balancer import BackendPool, Balancer, run_balancer
    from switchgeard.config import load_config
    from switchgeard.daemon.wiring import connect_factory
    from switchgeard.lightning import LightningBackend, open_bridge
    from switchgeard.store import open_store
    from switchgeard.units import Msat

    await trio.Path(tmp / "logs").mkdir(parents=True)
    config_path = tmp / "switchgeard.toml"
    config_path.write_text(daemon_config(tmp, free_port(), "warning"), encoding="utf-8")
    await seed(config_path, nodes)
    config = load_config(config_path)
    balanced: list[float] = []
    direct: list[float] = []
    async with open_bridge(), open_store(config.store) as store, trio.open_nursery() as nursery:
        pool = BackendPool(store, connect_factory(lambda: config.lightning))
        balancer = Balancer(pool, store, config.balancer)
        await nursery.start(run_balancer, balancer)
        clients: list[LightningBackend] = [m.client for m in pool.members() if m.client]
        for index in range(count + WARMUP):
            amount = Msat(21_000 + index)
            started = time.perf_counter()
            await balancer.issue_invoice(
                partition="default",
                amount=amount,
                description=METADATA,
                reference="bench",
                expiry=600,
            )
            middle = time.perf_counter()
            await clients[index % len(clients)].create_invoice(
                amount, METADATA, description_hash_only=True, expiry=600
            )
            if index >= WARMUP:
                balanced.append(middle - started)
                direct.append(time.perf_counter() - middle)
        nursery.cancel_scope.cancel()
    return balanced, direct


@dataclass
class Results:
    runs: dict[str, Run]
    cpu_per_callback: dict[str, float]
    """Milliseconds of CPU per callback of the daemon, each fake node and this process."""
    sequential: Run
    """Callbacks over one connection: the end-to-end latency without queueing."""
    balanced: list[float]
    direct: list[float]
    log_level: str


async def start_daemon(
    tmp: Path, nodes: list[dict[str, Any]], log_level: str, procs: list[subprocess.Popen[bytes]]
) -> int:
    port = free_port()
    await trio.Path(tmp / "logs").mkdir(parents=True)
    config_path = tmp / "switchgeard.toml"
    config_path.write_text(daemon_config(tmp, port, log_level), encoding="utf-8")
    await seed(config_path, nodes)
    args = [sys.executable, "-m", "switchgeard", "run", "--config", str(config_path)]
    procs.append(spawn(args, tmp / "daemon.log"))
    return port


async def run_bench(tmp: Path, total: int, log_level: str, rounds: int) -> Results:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        nodes = [
            await start_fake("lnd", tmp / "lnd", procs),
            await start_fake("cln", tmp / "cln", procs),
        ]
        port = await start_daemon(tmp / "daemon", nodes, log_level, procs)
        base_port = free_port()
        procs.append(
            spawn(
                [sys.executable, __file__, "--serve-baseline", str(base_port)], tmp / "baseline.log"
            )
        )
        offer = f"/offers/default/{OFFER_ID}"
        await wait_http(port, "/health/full")
        await wait_http(base_port, offer)
        servers, others = server_cpus()
        for proc in procs:
            pin(proc.pid, servers if proc in procs[2:] else others)
        pin(os.getpid(), others)
        await load(base_port, lambda i: offer, 300, CONCURRENCY)
        await load(port, lambda i: offer, 300, CONCURRENCY)
        runs = {
            "baseline": await load(base_port, lambda i: offer, total, CONCURRENCY),
            "first": await load(port, lambda i: offer, total, CONCURRENCY),
        }
        watched = {"daemon": procs[2].pid, "fake LND": procs[0].pid, "fake CLN": procs[1].pid}
        before = {name: cpu_seconds(pid) for name, pid in watched.items()}
        before["bench client"] = time.process_time()
        for round_ in range(rounds):
            runs[f"callback {round_ + 1}"] = await load(
                port,
                lambda i, r=round_: f"{offer}/invoice?amount={1000 + r * total + i}",
                total,
                CONCURRENCY,
            )
        after = {name: cpu_seconds(pid) for name, pid in watched.items()}
        after["bench client"] = time.process_time()
        cpu = {name: (after[name] - before[name]) / (total * rounds) * 1000 for name in after}
        sequential = await load(port, lambda i: f"{offer}/invoice?amount={1000 + i}", 200, 1)
        balanced, direct = await balancer_vs_direct(tmp / "inproc", nodes, 200)
        return Results(runs, cpu, sequential, balanced, direct, log_level)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def calibrate() -> float:
    """CPU seconds of a fixed pure-Python loop (best of three): how fast this machine's
    cores run the interpreter, so runs on different machines can be compared."""
    timings = []
    for _ in range(3):
        started = time.process_time()
        sum(range(10_000_000))
        timings.append(time.process_time() - started)
    return min(timings)


def placement() -> str:
    servers, others = server_cpus()
    if servers == others:
        return "one CPU shared by all processes"
    return (
        f"server under test on CPU {min(servers)}, load generator and fake nodes on CPU "
        + ",".join(map(str, sorted(others)))
    )


def machine() -> str:
    return f"`{' '.join(platform.uname())}`, nproc {os.cpu_count()}"


def p50(values: list[float]) -> float:
    return statistics.median(values) * 1000


def report(results: Results, load_before: float, calibration: float) -> str:
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    runs = results.runs
    base, first = runs["baseline"], runs["first"]
    rounds = [run for name, run in runs.items() if name.startswith("callback")]
    callback = sorted(rounds, key=lambda run: run.pct(0.99))[len(rounds) // 2]
    balanced, direct = p50(results.balanced), p50(results.direct)
    sequential = results.sequential.pct(0.5)
    access = "access log" if results.log_level in ("debug", "info") else "no access log"
    lines = [
        f"### {date}",
        "",
        f"Machine: {machine()}; python {platform.python_version()}; "
        f"{CONCURRENCY} concurrent keep-alive connections, loopback, plain HTTP; "
        f"{placement()}; "
        f"daemon logging level {results.log_level!r} ({access}), metrics "
        "recorded, rate limiter on (limits above the load); 1-minute load average "
        f"{load_before:.2f} before the run; CPU calibration (`sum(range(10**7))`, CPU "
        f"seconds) {calibration:.3f}.",
        "",
        "| run | requests | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
        base.row("baseline: bare quart-trio, constant payRequest"),
        first.row("daemon: first call (store lookup + metadata)"),
        *(
            run.row(f"daemon: callback, round {k} (balancer + signed invoice + ledger)")
            for k, run in enumerate(rounds, 1)
        ),
        results.sequential.row("daemon: callback, one connection (no queueing)"),
        "",
        f"- first-call throughput vs baseline: {first.rps / base.rps * 100:.0f} % (target >= 60 %)",
        f"- callback p99: {callback.pct(0.99):.1f} ms, the median of {len(rounds)} rounds "
        "(target <= 50 ms)",
        f"- balancer overhead at p50: {balanced - direct:.2f} ms (Balancer.issue_invoice p50 "
        f"{balanced:.2f} ms minus the adapter's create_invoice p50 {direct:.2f} ms, same "
        "connections, alternating; target <= 2 ms)",
        f"- end-to-end service overhead at p50: {sequential - direct:.2f} ms (sequential "
        f"callback p50 {sequential:.2f} ms minus the direct call; HTTP, rate limiter, access "
        "log, metrics, offer lookup and balancer)",
        "- CPU per callback under load: "
        + ", ".join(f"{name} {ms:.2f} ms" for name, ms in results.cpu_per_callback.items()),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--requests", type=int, default=3000, help="first calls, and callbacks, per run"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="callback runs (the report takes the median p99)"
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help="the daemon's [logging] level (info writes an access line per request)",
    )
    parser.add_argument("--serve-baseline", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_baseline:
        serve_baseline(args.serve_baseline)
        return
    if not 100 <= args.requests <= 50_000:
        parser.error("--requests must be between 100 and 50000 (the bench is bounded)")
    if not 1 <= args.rounds <= 9:
        parser.error("--rounds must be between 1 and 9 (the bench is bounded)")
    with tempfile.TemporaryDirectory(prefix="switchgeard-bench-") as tmp:
        load_before = os.getloadavg()[0]
        calibration = calibrate()
        results = trio.run(run_bench, Path(tmp), args.requests, args.log_level, args.rounds)
    print(report(results, load_before, calibration))


if __name__ == "__main__":
    main()
