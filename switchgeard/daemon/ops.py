"""Operations around the services: per-service log files, metrics, the rate limiter.

``open_ops`` opens them in that order (so the limiter can count into the metrics) and
registers every secret the config names with the log redactor first, so no line written
afterwards can carry one: the redactor is applied to the log files and, through
``redact_system_log``, to the stderr handler ``daemon.logs`` owns (the only one writing to
stderr). ``run_ops_follower`` applies reloaded ``[ratelimit]``, ``[lnurl] trusted_proxies``
and ``[logging]`` settings live.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

import trio

from switchgeard.config import Config
from switchgeard.config.watch import ConfigWatcher
from switchgeard.daemon.logs import redact_system_log
from switchgeard.daemon.meters import publish_reloads
from switchgeard.daemon.secrets import config_secret_paths, register_files
from switchgeard.errors import ConfigError
from switchgeard.ratelimit import Limiter, open_limiter
from switchgeard.telemetry import Metrics, open_metrics
from switchgeard.telemetry.access import ClientIpFormat
from switchgeard.telemetry.logs import ServiceLogs, open_service_logs
from switchgeard.telemetry.redact import Redactor

logger = logging.getLogger("switchgeard.daemon")


@dataclass(frozen=True, slots=True)
class Ops:
    """The open operations components, for the services to use."""

    logs: ServiceLogs
    metrics: Metrics
    limiter: Limiter
    client_ip: ClientIpFormat

    @property
    def redactor(self) -> Redactor:
        return self.logs.redactor


@asynccontextmanager
async def open_ops(config: Config) -> AsyncIterator[Ops]:
    """Open logs, metrics and limiter for ``config``; ConfigError names a bad key."""
    redactor = Redactor()
    await register_files(redactor, config_secret_paths(config))
    with (
        open_service_logs(config.logging, redactor=redactor) as logs,
        redact_system_log(redactor),
    ):
        async with (
            open_metrics(config.telemetry) as metrics,
            open_limiter(
                config.ratelimit, trusted_proxies=config.lnurl.trusted_proxies, metrics=metrics
            ) as limiter,
        ):
            yield Ops(logs, metrics, limiter, ClientIpFormat(config.logging.client_ip))


async def run_ops_follower(
    ops: Ops,
    watcher: ConfigWatcher,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Apply each reloaded config to the limiter and the logs; publish reload counts."""
    ops.metrics.add_source(partial(publish_reloads, watcher, ops.metrics))
    running = watcher.current
    task_status.started()
    async for config in watcher.config.eventual_values():
        if config is not running:
            apply_reload(ops, running, config)
            running = config


def apply_reload(ops: Ops, old: Config, new: Config) -> None:
    """Reconfigure what changed between ``old`` and ``new`` (unchanged parts keep state)."""
    proxies = new.lnurl.trusted_proxies
    if new.ratelimit != old.ratelimit or proxies != old.lnurl.trusted_proxies:
        try:
            ops.limiter.reconfigure(new.ratelimit, trusted_proxies=proxies)
        except ConfigError as exc:
            logger.warning("rate limits unchanged, the new ones are not usable: %s", exc)
        else:
            logger.info("rate limits reloaded")
    if new.logging.level != old.logging.level:
        ops.logs.set_level(new.logging.level)
    if new.logging.client_ip != old.logging.client_ip:
        ops.client_ip.mode = new.logging.client_ip
