"""Wall time of ``switchgear-ctl status`` and ``--help``: median and spread over N runs.

Starts a real daemon (``switchgeard run``) on a temporary SQLite store and admin socket,
then runs the installed ``switchgear-ctl`` entry point as a fresh process each time, as an
operator would. Prints a Markdown section for bench/RESULTS.md. Target: median <= 150 ms.

    .venv/bin/python bench/ctl.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

CONFIG = """\
[store]
url = "sqlite://{db}"
[admin]
socket = "{socket}"
[lnurl]
listen = ["127.0.0.1:0"]
"""


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def start_daemon(directory: Path) -> tuple[subprocess.Popen[bytes], Path]:
    socket = directory / "admin.sock"
    config = directory / "switchgeard.toml"
    config.write_text(CONFIG.format(db=directory / "sg.db", socket=socket), encoding="utf-8")
    daemon = subprocess.Popen(
        [_bin("switchgeard"), "run", "--config", str(config)], stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 20
    while not socket.exists():
        if time.monotonic() > deadline or daemon.poll() is not None:
            daemon.kill()
            raise SystemExit("bench: the daemon did not create its admin socket")
        time.sleep(0.05)
    return daemon, socket


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_runs(argv: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) milliseconds of each run, after two warm-up runs."""
    wall, cpu = [], []
    for _ in range(runs + 2):
        cpu_before, start = _child_cpu(), time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((_child_cpu() - cpu_before) * 1000)
    return wall[2:], cpu[2:]


def row(name: str, timings: tuple[list[float], list[float]]) -> str:
    wall, cpu = timings
    quantiles = statistics.quantiles(wall, n=10)
    return (
        f"| `{name}` | {statistics.median(wall):.0f} | {min(wall):.0f} "
        f"| {quantiles[-1]:.0f} | {statistics.median(cpu):.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    ctl = _bin("switchgear-ctl")
    with tempfile.TemporaryDirectory(prefix="sgbench") as tmp:
        daemon, socket = start_daemon(Path(tmp))
        try:
            status = time_runs([ctl, "--socket", str(socket), "status"], args.runs)
            helped = time_runs([ctl, "--help"], args.runs)
            baseline = time_runs([sys.executable, "-c", "pass"], args.runs)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
    print(
        f"## ctl\n\n{date.today()}, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs "
        f"(`.venv/bin/python bench/ctl.py --runs {args.runs}`; each run a new process).\n"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Load average during the run: {load}.\n")
    print(
        "| command | median ms | min | p90 | median CPU ms |\n| --- | ---: | ---: | ---: | ---: |"
    )
    print(row("switchgear-ctl status", status))
    print(row("switchgear-ctl --help", helped))
    print(row("python -c pass (interpreter start, for scale)", baseline))
    print("\nTarget: median <= 150 ms.")


if __name__ == "__main__":
    main()
