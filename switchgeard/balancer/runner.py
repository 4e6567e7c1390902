"""``run_balancer``: the balancer's background work, as one task with ``task_status``."""

from __future__ import annotations

from collections.abc import AsyncIterable

import trio

from switchgeard.balancer.balancer import Balancer
from switchgeard.config.model import BalancerConfig


async def run_balancer(
    balancer: Balancer,
    *,
    updates: AsyncIterable[BalancerConfig] | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run discovery (every ``backend_refresh``), health probes and settlement watchers.

    Reports started after the first read of the backend set and the first probe of every
    backend (each bounded by ``health.timeout``). Each value from ``updates`` (for example
    ``AsyncValue.eventual_values()`` of the ``[balancer]`` section) is applied live. Runs
    until cancelled; every backend connection is closed on the way out.
    """
    async with trio.open_nursery() as nursery:
        await nursery.start(balancer.pool.serve, balancer.monitor.serve_member)
        await balancer.refresh()
        with trio.move_on_after(balancer.config.health.timeout):
            for member in balancer.pool.members():
                await member.first_probe.wait()
        nursery.start_soon(_discover, balancer)
        if updates is not None:
            nursery.start_soon(_follow, balancer, updates)
        task_status.started()


async def _discover(balancer: Balancer) -> None:
    while True:
        await balancer.wakeup.wait(balancer.config.backend_refresh)
        await balancer.refresh()


async def _follow(balancer: Balancer, updates: AsyncIterable[BalancerConfig]) -> None:
    async for cfg in updates:
        balancer.apply_config(cfg)
