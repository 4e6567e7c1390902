"""A running daemon (``run_daemon``) with its admin socket, and ctl run in-process against it."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
import trio

from switchgeard.config import load_config
from switchgeard.ctl.main import main
from switchgeard.daemon.compose import run_daemon

CONFIG = """\
[store]
url = "sqlite://{db}"
[admin]
socket = "{socket}"
socket_mode = "0600"
[lnurl]
listen = ["127.0.0.1:0"]
allowed_hosts = ["pay.example.com"]
[telemetry]
prometheus_listen = ""
[lightning]
network = "regtest"
call_timeout = "2s"
[balancer]
invoice_timeout = "300ms"
backend_refresh = "100ms"
[balancer.health]
interval = "100ms"
timeout = "300ms"
"""


@dataclass
class Ran:
    """What one ctl run printed and returned."""

    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


@dataclass
class Daemon:
    socket: Path
    config_path: Path

    async def ctl(self, *argv: str, stdin: str = "") -> Ran:
        """Run ``switchgear-ctl --socket SOCKET ARGV...`` in a worker thread."""
        return await run_ctl("--socket", str(self.socket), *argv, stdin=stdin)


async def run_ctl(*argv: str, stdin: str = "", environ: dict[str, str] | None = None) -> Ran:
    out, err = io.StringIO(), io.StringIO()
    call = partial(
        main, list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin), environ=environ or {}
    )
    with trio.fail_after(20):
        code = await trio.to_thread.run_sync(call)
    return Ran(code, out.getvalue(), err.getvalue())


def write_config(tmp_path: Path, socket: Path) -> Path:
    path = tmp_path / "switchgeard.toml"
    path.write_text(CONFIG.format(db=tmp_path / "sg.db", socket=socket), encoding="utf-8")
    return path


@pytest.fixture
async def daemon(tmp_path: Path, short_dir: Path, nursery: trio.Nursery) -> AsyncIterator[Daemon]:
    socket = short_dir / "admin.sock"
    config_path = write_config(tmp_path, socket)
    await nursery.start(partial(run_daemon, load_config(config_path)))
    yield Daemon(socket, config_path)
