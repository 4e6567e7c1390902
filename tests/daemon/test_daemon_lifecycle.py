"""sd_notify, watchdog, signals, graceful and forced stop, and run_daemon in-process."""

from __future__ import annotations

import itertools
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import trio

from switchgeard.config import load_config
from switchgeard.config.watch import ConfigWatcher
from switchgeard.daemon.compose import run_daemon
from switchgeard.daemon.lifecycle import (
    Shutdown,
    SystemdNotifier,
    reload_with_notify,
    run_signal_handler,
    run_watchdog,
    watchdog_interval,
)


class NotifySocket:
    """A fake systemd: the datagram socket $NOTIFY_SOCKET names."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_DGRAM)

    async def bind(self) -> None:
        name = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        await self.sock.bind(name)

    async def receive(self) -> list[str]:
        with trio.fail_after(5):
            data = await self.sock.recv(4096)
        return data.decode().split("\n")


@pytest.fixture
async def notify_socket(tmp_path: Path) -> AsyncIterator[NotifySocket]:
    fake = NotifySocket(str(tmp_path / "notify"))
    with fake.sock:
        await fake.bind()
        yield fake


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def config_text(tmp_path: Path, extra: str = "") -> str:
    return (
        f'[store]\nurl = "sqlite://{tmp_path}/x.db"\n'
        '[lnurl]\nlisten = ["127.0.0.1:0"]\nqr_scale = 8\n'
        f'[admin]\nsocket = "{tmp_path}/admin.sock"\n'
        '[telemetry]\nprometheus_listen = ""\n' + extra
    )


async def test_notify_to_a_path_socket(notify_socket: NotifySocket) -> None:
    notifier = SystemdNotifier.from_environ({"NOTIFY_SOCKET": notify_socket.address})
    assert notifier.enabled
    notifier.ready("3/3 backends healthy")
    assert await notify_socket.receive() == ["READY=1", "STATUS=3/3 backends healthy"]


async def test_notify_to_an_abstract_socket() -> None:
    fake = NotifySocket(f"@switchgeard-test-{uuid.uuid4().hex}")
    with fake.sock:
        await fake.bind()
        notifier = SystemdNotifier.from_environ({"NOTIFY_SOCKET": fake.address})
        notifier.stopping()
        assert (await fake.receive())[0] == "STOPPING=1"


@pytest.mark.parametrize("value", [None, "", "vsock:2:1234", "relative/path"])
def test_notify_is_off_without_a_usable_socket(value: str | None) -> None:
    environ = {} if value is None else {"NOTIFY_SOCKET": value}
    notifier = SystemdNotifier.from_environ(environ)
    assert not notifier.enabled
    assert notifier.notify("READY=1") is False


def test_notify_to_a_vanished_socket_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = SystemdNotifier(str(tmp_path / "gone"))
    assert notifier.notify("READY=1") is False
    assert "sd_notify" in caplog.text


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
    ],
)
def test_watchdog_interval(environ: dict[str, str], expected: float | None) -> None:
    assert watchdog_interval(environ, 4242) == expected


async def test_watchdog_pings_every_half_period(
    notify_socket: NotifySocket, autojump_clock: trio.abc.Clock
) -> None:
    notifier = SystemdNotifier(notify_socket.address)
    async with trio.open_nursery() as nursery:
        await nursery.start(run_watchdog, notifier, {"WATCHDOG_USEC": "2000000"})
        times = []
        for _ in range(3):
            assert await notify_socket.receive() == ["WATCHDOG=1"]
            times.append(trio.current_time())
        nursery.cancel_scope.cancel()
    assert [round(b - a, 3) for a, b in itertools.pairwise(times)] == [1.0, 1.0]


async def test_reload_is_bracketed_by_reloading_and_ready(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    path = write_config(tmp_path / "c.toml", config_text(tmp_path))
    watcher = ConfigWatcher(load_config(path))
    write_config(path, config_text(tmp_path).replace("qr_scale = 8", "qr_scale = 9"))
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    result = await reload_with_notify(watcher, SystemdNotifier(notify_socket.address))
    assert result.changed == ("lnurl",)
    reloading = await notify_socket.receive()
    assert reloading[0] == "RELOADING=1"
    usec = int(reloading[1].removeprefix("MONOTONIC_USEC="))
    assert before <= usec <= time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert await notify_socket.receive() == ["READY=1", "STATUS=reloaded"]


async def test_first_stop_request_drains_second_forces(notify_socket: NotifySocket) -> None:
    notifier = SystemdNotifier(notify_socket.address)
    with trio.CancelScope() as root:
        shutdown = Shutdown(root, notifier, lambda: 7.0)
        shutdown.request("SIGTERM")
        assert shutdown.requested and not shutdown.forced
        assert shutdown.drain_scope.deadline == pytest.approx(trio.current_time() + 7.0)
        with trio.fail_after(1):
            await shutdown.wait()
        assert (await notify_socket.receive())[0] == "STOPPING=1"
        shutdown.request("SIGINT")
        assert shutdown.forced
        await trio.sleep_forever()  # cancelled by the forced stop
    assert root.cancelled_caught


async def test_signals_reload_and_stop(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.toml", config_text(tmp_path))
    watcher = ConfigWatcher(load_config(path))
    notifier = SystemdNotifier(None)
    async with trio.open_nursery() as nursery:
        shutdown = Shutdown(nursery.cancel_scope, notifier, lambda: 1.0)
        await nursery.start(run_signal_handler, shutdown, watcher, notifier)
        write_config(path, config_text(tmp_path).replace("qr_scale = 8", "qr_scale = 5"))
        os.kill(os.getpid(), signal.SIGHUP)
        with trio.fail_after(5):
            await watcher.section("lnurl").wait_value(lambda cfg: cfg.qr_scale == 5)
        os.kill(os.getpid(), signal.SIGTERM)
        with trio.fail_after(5):
            await shutdown.wait()
        nursery.cancel_scope.cancel()


async def test_run_daemon_serves_both_apps_and_stops_on_sigterm(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.toml", config_text(tmp_path))
    async with trio.open_nursery() as nursery:
        addresses = await nursery.start(run_daemon, load_config(path))
        async with httpx.AsyncClient(timeout=5) as client:
            assert (await client.get(f"{addresses.lnurl[0]}/health")).status_code == 200
        transport = httpx.AsyncHTTPTransport(uds=addresses.admin.removeprefix("unix:"))
        async with httpx.AsyncClient(transport=transport, timeout=5) as client:
            assert (await client.get("http://admin/health")).json() == {"status": "ok"}
        os.kill(os.getpid(), signal.SIGTERM)
        with trio.fail_after(2):
            while (tmp_path / "admin.sock").exists():
                await trio.sleep(0.01)
