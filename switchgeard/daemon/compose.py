"""The composition root: build every component from the config and run them in one nursery.

One place per component, in start order. A component that others need is started with
``nursery.start`` so it is ready (and its address known) before the next one starts;
READY=1 goes to systemd only when every listener is bound.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import trio
from quart_trio import QuartTrio

from switchgeard.admin.app import create_admin_app
from switchgeard.admin.ports import AdminDeps
from switchgeard.admin.reload import WatcherReloader
from switchgeard.admin.status import daemon_info
from switchgeard.balancer import BackendPool, Balancer, run_balancer
from switchgeard.config import Config
from switchgeard.config.watch import ConfigWatcher, run_config_watcher
from switchgeard.daemon.http import serve_asgi
from switchgeard.daemon.lifecycle import (
    Shutdown,
    SystemdNotifier,
    run_signal_handler,
    run_watchdog,
)
from switchgeard.daemon.logs import run_log_level_follower
from switchgeard.daemon.meters import MeteredCounters, metered_connect, start_meters
from switchgeard.daemon.ops import open_ops, run_ops_follower
from switchgeard.daemon.wiring import connect_factory, create_public_app, run_lnurl_follower
from switchgeard.ldap_sync import run_ldap_sync
from switchgeard.lnurl import lnurl_config
from switchgeard.store import open_store


@dataclass(frozen=True, slots=True)
class DaemonAddresses:
    """Where the running daemon listens (real ports, when port 0 was configured)."""

    lnurl: tuple[str, ...]
    admin: str
    metrics: str | None = None
    """The Prometheus listener ("host:port"), if ``[telemetry] prometheus_listen`` is set."""


async def run_daemon(
    config: Config,
    *,
    config_path: Path | None = None,
    task_status: trio.TaskStatus[DaemonAddresses] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the daemon until SIGTERM/SIGINT (graceful) or cancellation.

    ``config_path`` (default ``config.path``) is watched and reloaded live. Reports the
    bound addresses through ``task_status``. Raises ListenError when a listener cannot be
    bound; a ConfigError when a component finds its settings unusable.
    """
    notifier = SystemdNotifier.from_environ()
    try:
        await _run_components(config, notifier, config_path, task_status)
    finally:  # every way out (signal, failed component, listener error) tells systemd
        notifier.stopping()


async def _run_components(
    config: Config,
    notifier: SystemdNotifier,
    config_path: Path | None,
    task_status: trio.TaskStatus[DaemonAddresses],
) -> None:
    watcher = ConfigWatcher(config, path=config_path)
    async with (
        open_ops(config) as ops,
        open_store(config.store) as store,
        trio.open_nursery() as nursery,
    ):
        shutdown = Shutdown(
            nursery.cancel_scope, notifier, lambda: watcher.current.daemon.shutdown_grace
        )
        await nursery.start(run_signal_handler, shutdown, watcher, notifier)
        await nursery.start(run_config_watcher, watcher)
        await nursery.start(run_log_level_follower, watcher.section("logging"))
        await nursery.start(run_ops_follower, ops, watcher)
        connect = connect_factory(lambda: watcher.current.lightning)
        pool = BackendPool(store, metered_connect(connect, ops.metrics, ops.redactor))
        balancer = Balancer(pool, store, config.balancer, counters=MeteredCounters(ops.metrics))
        updates = watcher.section("balancer").eventual_values()
        await nursery.start(partial(run_balancer, balancer, updates=updates))
        syncer = None
        if config.ldap is not None:
            syncer = await nursery.start(run_ldap_sync, store, config.ldap)
        await start_meters(nursery, ops.metrics, balancer, store, syncer)
        public_app = create_public_app(store, balancer, config.lnurl, ops)
        await nursery.start(run_lnurl_follower, public_app, watcher.section("lnurl"))
        info = daemon_info(config, config_file=watcher.path, started_at=datetime.now(UTC))
        reloader = WatcherReloader(watcher, nursery.start_soon)
        admin_app = create_admin_app(
            AdminDeps(
                store=store,
                info=info,
                health=balancer,
                reloader=reloader,
                ldap=syncer,
                lnurl=partial(lnurl_config, public_app),
            )
        )
        with shutdown.drain_scope:
            async with trio.open_nursery() as servers:
                addresses = await _start_listeners(servers, config, shutdown, public_app, admin_app)
                addresses = replace(addresses, metrics=ops.metrics.prometheus_address)
                notifier.ready(f"serving on {', '.join(addresses.lnurl)}; admin {addresses.admin}")
                await nursery.start(run_watchdog, notifier)
                task_status.started(addresses)
        nursery.cancel_scope.cancel()


async def _start_listeners(
    servers: trio.Nursery,
    config: Config,
    shutdown: Shutdown,
    public_app: QuartTrio,
    admin_app: QuartTrio,
) -> DaemonAddresses:
    # The drain is bounded by shutdown.drain_scope, with the grace in force at the signal.
    grace = math.inf
    lnurl_cfg, admin_cfg = config.lnurl, config.admin
    lnurl = await servers.start(
        partial(
            serve_asgi,
            public_app,
            binds=list(lnurl_cfg.listen),
            tls_cert_file=lnurl_cfg.tls_cert_file,
            tls_key_file=lnurl_cfg.tls_key_file,
            socket_mode=lnurl_cfg.socket_mode,
            socket_group=lnurl_cfg.socket_group,
            shutdown_trigger=shutdown.wait,
            graceful_timeout=grace,
        )
    )
    admin = await servers.start(
        partial(
            serve_asgi,
            admin_app,
            binds=[f"unix:{os.fspath(admin_cfg.socket)}"],
            socket_mode=admin_cfg.socket_mode,
            socket_group=admin_cfg.socket_group,
            shutdown_trigger=shutdown.wait,
            graceful_timeout=grace,
        )
    )
    return DaemonAddresses(lnurl=tuple(lnurl), admin=admin[0])
