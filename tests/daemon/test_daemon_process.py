"""The ``switchgeard`` command as a real process: run, signals, sd_notify, exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import trio

from switchgeard import __version__

SWITCHGEARD = [sys.executable, "-m", "switchgeard"]


class FakeSystemd:
    """Binds the datagram socket handed to the daemon as $NOTIFY_SOCKET."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_DGRAM)

    async def expect(self, field: str, *, timeout: float = 20) -> list[str]:
        """Receive messages until one holds ``field``; return that message's lines."""
        with trio.fail_after(timeout):
            while True:
                lines = (await self.sock.recv(4096)).decode().split("\n")
                if field in lines:
                    return lines


@pytest.fixture
async def systemd(tmp_path: Path) -> AsyncIterator[FakeSystemd]:
    fake = FakeSystemd(tmp_path / "notify.sock")
    with fake.sock:
        await fake.sock.bind(str(fake.path))
        yield fake


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "switchgeard.toml"
    path.write_text(
        f'[store]\nurl = "sqlite://{tmp_path}/switchgeard.db"\n'
        f'[lnurl]\nlisten = ["127.0.0.1:0", "unix:{tmp_path}/http.sock"]\n'
        f'[admin]\nsocket = "{tmp_path}/admin.sock"\n'
        '[telemetry]\nprometheus_listen = ""\n' + extra
    )
    return path


async def start_daemon(config: Path, systemd: FakeSystemd) -> trio.Process:
    """Start ``switchgeard run``; its log goes to ``daemon.log`` beside the config."""
    environ = dict(os.environ, NOTIFY_SOCKET=str(systemd.path), WATCHDOG_USEC="400000")
    with (config.parent / "daemon.log").open("ab") as log:
        return await trio.lowlevel.open_process(
            [*SWITCHGEARD, "run", "--config", str(config)], env=environ, stderr=log
        )


def lnurl_address(ready: list[str]) -> str:
    status = next(line for line in ready if line.startswith("STATUS="))
    return status.removeprefix("STATUS=serving on ").split(",")[0]


@pytest.mark.deadline(60)
async def test_run_notifies_ready_serves_and_exits_0_on_sigterm(
    tmp_path: Path, systemd: FakeSystemd
) -> None:
    process = await start_daemon(write_config(tmp_path), systemd)
    try:
        ready = await systemd.expect("READY=1")
        url = lnurl_address(ready)
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        async with httpx.AsyncClient(timeout=5) as client:
            assert (await client.get(f"{url}/health")).status_code == 200
        assert (tmp_path / "admin.sock").exists() and (tmp_path / "http.sock").exists()
        await systemd.expect("WATCHDOG=1", timeout=2)
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(1):
            status = await process.wait()
    finally:
        process.kill()
        await process.wait()
    assert status == 0
    await systemd.expect("STOPPING=1", timeout=1)
    assert not (tmp_path / "admin.sock").exists()
    assert not (tmp_path / "http.sock").exists()


@pytest.mark.deadline(60)
async def test_sighup_reloads_with_notifications(tmp_path: Path, systemd: FakeSystemd) -> None:
    config = write_config(tmp_path)
    process = await start_daemon(config, systemd)
    try:
        await systemd.expect("READY=1")
        config.write_text(config.read_text() + '[balancer.health]\ninterval = "2s"\n')
        process.send_signal(signal.SIGHUP)
        reloading = await systemd.expect("RELOADING=1", timeout=5)
        assert any(line.startswith("MONOTONIC_USEC=") for line in reloading)
        assert "STATUS=reloaded" in await systemd.expect("READY=1", timeout=5)
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(2):
            assert await process.wait() == 0
    finally:
        process.kill()
        await process.wait()


@pytest.mark.deadline(60)
async def test_a_socket_held_by_a_live_daemon_is_not_stolen(
    tmp_path: Path, systemd: FakeSystemd
) -> None:
    config = write_config(tmp_path)
    first = await start_daemon(config, systemd)
    try:
        await systemd.expect("READY=1")
        second = await trio.run_process(
            [*SWITCHGEARD, "run", "--config", str(config)], capture_stderr=True, check=False
        )
        assert second.returncode == 1
        assert b"served by another running process" in second.stderr
        assert (tmp_path / "admin.sock").exists()
    finally:
        first.send_signal(signal.SIGTERM)
        with trio.fail_after(5):
            await first.wait()


async def run_cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return await trio.run_process(
        [*SWITCHGEARD, *args], capture_stdout=True, capture_stderr=True, check=False
    )


async def test_check_config_accepts_a_valid_file(tmp_path: Path) -> None:
    result = await run_cli("check-config", str(write_config(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert b"ok" in result.stdout


async def test_check_config_rejects_with_the_key_path(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[balancer.health]\ninterval = "often"\n')
    result = await run_cli("check-config", str(config))
    assert result.returncode == 1
    assert f"{config}: balancer.health.interval: expected a duration".encode() in result.stderr
    assert b"Traceback" not in result.stderr


async def test_run_with_an_invalid_config_exits_78(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[lnurl]\n")  # a second [lnurl] table: not valid TOML
    result = await run_cli("run", "--config", str(config))
    assert result.returncode == 78
    assert b"not valid TOML" in result.stderr and b"Traceback" not in result.stderr


async def test_version() -> None:
    result = await run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.decode().strip() == f"switchgeard {__version__}"


@pytest.mark.deadline(60)
async def test_a_failed_start_still_tells_systemd_it_is_stopping(
    tmp_path: Path, systemd: FakeSystemd
) -> None:
    with trio.socket.socket() as taken:
        await taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path)
        config.write_text(config.read_text().replace('"127.0.0.1:0"', f'"127.0.0.1:{port}"'))
        daemon = await start_daemon(config, systemd)
        lines = await systemd.expect("STOPPING=1")
        with trio.fail_after(10):
            assert await daemon.wait() == 1
    assert "READY=1" not in lines
