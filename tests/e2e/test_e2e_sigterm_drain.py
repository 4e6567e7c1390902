"""SIGTERM drains the real daemon: a callback in flight at the signal still gets its invoice.

``run_daemon`` runs in-process with both fake nodes made slow, so an LNURL callback is
still waiting on a node when SIGTERM reaches the test process (the daemon's signal
receiver is active). The callback must complete with 200 and a valid invoice, the public
listener must refuse new connections at once, and ``run_daemon`` must return within the
configured grace.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import bolt11
import httpx
import pytest
import trio
from e2e_world import OFFER_PATH

from switchgeard.config import load_config
from switchgeard.daemon.compose import DaemonAddresses, run_daemon
from switchgeard.daemon.demo import seed_demo
from switchgeard.lightning import open_bridge
from switchgeard.store import open_store
from switchgeard.testing.fake_cln import FakeCln, serve_fake_cln
from switchgeard.testing.fake_lnd import FakeLnd, serve_fake_lnd

pytestmark = [pytest.mark.deadline(20)]

GRACE = 5.0
SLOW_MS = 1200
"""Longer than the wait for the node to see the call, shorter than every timeout below."""


def _write_config(tmp: Path) -> Path:
    lines = [
        "[daemon]", f'shutdown_grace = "{GRACE}s"',
        "[store]", f'url = "sqlite://{tmp / "switchgeard.db"}"',
        "[admin]", f'socket = "{tmp / "admin.sock"}"',
        "[lightning]", 'network = "regtest"', 'call_timeout = "4s"',
        "[lnurl]", 'listen = ["127.0.0.1:0"]',
        "[telemetry]", 'prometheus_listen = ""',
        "[ratelimit]", "enabled = false",
        "[balancer]", 'invoice_timeout = "4s"', 'backend_refresh = "100ms"',
        "[balancer.health]", 'interval = "100ms"', 'timeout = "3s"',
    ]  # fmt: skip
    path = tmp / "switchgeard.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def _invoices_requested(lnd: FakeLnd, cln: FakeCln) -> Callable[[], int]:
    return lambda: lnd.core.calls["AddInvoice"] + cln.core.calls["Invoice"]


async def _refuses_connections(port: int) -> bool:
    try:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
    except OSError:
        return True
    await stream.aclose()
    return False


async def test_sigterm_lets_an_inflight_callback_finish(tmp_path: Path) -> None:
    config = load_config(_write_config(tmp_path))
    returned = trio.Event()
    async with open_bridge(), trio.open_nursery() as nursery:
        lnd = await nursery.start(serve_fake_lnd, tmp_path / "lnd")
        cln = await nursery.start(serve_fake_cln, tmp_path / "cln")
        async with open_store(config.store) as store:
            await seed_demo(store, lnd, cln)

        async def daemon(task_status: trio.TaskStatus[DaemonAddresses]) -> None:
            await run_daemon(config, task_status=task_status)
            returned.set()

        base = (await nursery.start(daemon)).lnurl[0]
        port = int(base.rsplit(":", 1)[1])
        requested = _invoices_requested(lnd, cln)
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            params = {"amount": "21000"}
            with trio.fail_after(5):  # both backends healthy and answering quickly
                while (await http.get(OFFER_PATH + "/invoice", params=params)).status_code != 200:
                    await trio.sleep(0.05)
            lnd.core.faults.slow_ms = cln.core.faults.slow_ms = SLOW_MS
            before = requested()
            results: list[httpx.Response] = []
            answered = trio.Event()

            async def callback() -> None:
                results.append(await http.get(OFFER_PATH + "/invoice", params=params))
                answered.set()

            nursery.start_soon(callback)
            with trio.fail_after(2):  # the call has reached a node and is being held there
                while requested() == before:
                    await trio.sleep(0.01)
            signalled = trio.current_time()
            os.kill(os.getpid(), signal.SIGTERM)
            with trio.fail_after(1):
                while not await _refuses_connections(port):
                    await trio.sleep(0.01)
            assert not results, "the callback finished before the signal; nothing was drained"
            with trio.fail_after(GRACE):
                await returned.wait()
                await answered.wait()
        assert trio.current_time() - signalled < GRACE
        [response] = results
        assert response.status_code == 200, response.text
        invoice = bolt11.decode(response.json()["pr"])
        assert invoice.amount_msat == 21_000
        assert invoice.payee in {lnd.pubkey, cln.pubkey}
        nursery.cancel_scope.cancel()
