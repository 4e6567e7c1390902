"""SO_PEERCRED: the uid of a Unix socket peer reaches the admin audit log through serve_asgi."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import httpx
import pytest
import trio
from admin.bodies import lnd_backend, node_key

from switchgeard.admin.app import create_admin_app
from switchgeard.admin.ports import AdminDeps, DaemonInfo
from switchgeard.config.model import StoreConfig
from switchgeard.daemon.http import serve_asgi
from switchgeard.daemon.peercred import PeerCred, read_peer_cred
from switchgeard.store import open_store

NOBODY = 65534

needs_peercred = pytest.mark.skipif(
    not hasattr(socket, "SO_PEERCRED"), reason="SO_PEERCRED is Linux-only"
)


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short directory that any user may traverse (the socket's mode decides who connects)."""
    with tempfile.TemporaryDirectory(prefix="sgp") as short:
        os.chmod(short, 0o711)
        yield Path(short)


@pytest.fixture
async def admin_app_deps(tmp_path: Path) -> AsyncIterator[AdminDeps]:
    async with open_store(StoreConfig(url=f"sqlite:///{tmp_path}/admin.db")) as store:
        info = DaemonInfo(
            version="0.1.0",
            started_at=datetime(2026, 1, 2, tzinfo=UTC),
            config_file=None,
            store_kind="sqlite",
        )
        yield AdminDeps(store=store, info=info)


async def serve_admin(
    deps: AdminDeps, binds: list[str], nursery: trio.Nursery, mode: int = 0o600
) -> list[str]:
    urls: list[str] = await nursery.start(
        partial(
            serve_asgi,
            create_admin_app(deps),
            binds=binds,
            socket_mode=mode,
            shutdown_trigger=trio.sleep_forever,
            graceful_timeout=1.0,
        )
    )
    return urls


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "switchgeard.admin"]


@needs_peercred
async def test_peer_cred_of_a_socketpair_is_this_process() -> None:
    left, right = trio.socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        assert read_peer_cred(left) == PeerCred(os.getpid(), os.getuid(), os.getgid())


async def test_no_peer_cred_on_tcp_or_when_getsockopt_fails() -> None:
    with trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        assert read_peer_cred(tcp) is None
    closed, other = trio.socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    closed.close()
    with other:
        assert read_peer_cred(closed) is None  # getsockopt raises EBADF


@needs_peercred
async def test_audit_lines_carry_the_peer_uid_on_unix_and_none_on_tcp(
    admin_app_deps: AdminDeps,
    socket_dir: Path,
    nursery: trio.Nursery,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="switchgeard.admin")
    path = socket_dir / "admin.sock"
    urls = await serve_admin(admin_app_deps, [f"unix:{path}", "127.0.0.1:0"], nursery)
    transport = httpx.AsyncHTTPTransport(uds=str(path))
    with trio.fail_after(10):
        async with httpx.AsyncClient(transport=transport, base_url="http://admin") as unix:
            # Two requests on one keep-alive connection: both know the peer.
            assert (await unix.post("/discovery", json=lnd_backend(1))).status_code == 201
            assert (await unix.delete(f"/discovery/{node_key(1)}")).status_code == 204
        async with httpx.AsyncClient(base_url=urls[1]) as tcp:
            assert (await tcp.post("/discovery", json=lnd_backend(2))).status_code == 201
    assert audit_lines(caplog) == [
        f"POST /discovery -> 201 uid={os.getuid()}",
        f"DELETE /discovery/{node_key(1)} -> 204 uid={os.getuid()}",
        "POST /discovery -> 201 uid=?",
    ]


@needs_peercred
@pytest.mark.skipif(os.geteuid() != 0, reason="connecting as another user needs root")
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")
async def test_another_users_uid_is_logged(
    admin_app_deps: AdminDeps,
    socket_dir: Path,
    nursery: trio.Nursery,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="switchgeard.admin")
    path = socket_dir / "admin.sock"
    await serve_admin(admin_app_deps, [f"unix:{path}"], nursery, mode=0o666)
    ctl = str(Path(sys.executable).with_name("switchgear-ctl"))
    add = ["backend", "add", "--key", node_key(3), "--lnd", "https://h:1", "--macaroon", "/m"]
    as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
    with trio.fail_after(20):
        result = await trio.run_process(
            [*as_nobody, ctl, "--socket", str(path), "--json", *add],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert result.returncode == 0, result.stderr.decode()
    assert audit_lines(caplog) == [f"POST /discovery -> 201 uid={NOBODY}"]
