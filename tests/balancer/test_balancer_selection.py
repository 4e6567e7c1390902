"""Selection through the running balancer: weights, exclusions, partitions, consistency."""

from __future__ import annotations

import random
from collections import Counter

import pytest
import trio
from balancer_fakes import Harness, backend, make_config, node_key, running
from trio.testing import MockClock

from switchgeard.errors import NoHealthyBackend


async def split(harness: Harness, count: int, **kwargs: object) -> Counter[str]:
    used: Counter[str] = Counter()
    for _ in range(count):
        issued = await harness.issue(**kwargs)  # type: ignore[arg-type]
        used[issued.backend_key] += 1
    return used


@pytest.mark.parametrize("strategy", ["round-robin", "random"])
async def test_weights_three_to_one(strategy: str, autojump_clock: MockClock) -> None:
    cfg = make_config(strategy=strategy)
    async with running(
        backend(1, weight=3), backend(2, weight=1), cfg=cfg, rng=random.Random(1)
    ) as harness:
        used = await split(harness, 400)
    assert 270 <= used[node_key(1)] <= 330
    assert used[node_key(1)] + used[node_key(2)] == 400


@pytest.mark.parametrize("strategy", ["round-robin", "random", "consistent"])
async def test_weight_zero_and_disabled_are_never_chosen(
    strategy: str, autojump_clock: MockClock
) -> None:
    records = (backend(1), backend(2, weight=0), backend(3, enabled=False))
    async with running(*records, cfg=make_config(strategy=strategy)) as harness:
        used = await split(harness, 50, key="some comment")
        assert set(used) == {node_key(1)}
        harness.node(1).fault = "down"
        with pytest.raises(NoHealthyBackend):
            await harness.issue()
        assert harness.node(2).create_calls == harness.node(3).create_calls == 0
        # Disabled and weight-0 backends are still probed and watched.
        assert harness.member(2).health.healthy and harness.member(3).health.healthy


async def test_partition_isolation(autojump_clock: MockClock) -> None:
    records = (
        backend(1, partitions=frozenset({"a"})),
        backend(2, partitions=frozenset({"b"})),
        backend(3, partitions=frozenset({"a", "b"})),
    )
    async with running(*records) as harness:
        assert set(await split(harness, 20, partition="a")) == {node_key(1), node_key(3)}
        assert set(await split(harness, 20, partition="b")) == {node_key(2), node_key(3)}
        with pytest.raises(NoHealthyBackend, match="partition 'c'"):
            await harness.issue(partition="c")
        assert not harness.balancer.selectable("c")
        harness.node(1).fault = "down"
        assert set(await split(harness, 20, partition="a")) == {node_key(3)}


async def test_pool_loads_only_backends_sharing_a_partition(autojump_clock: MockClock) -> None:
    records = (backend(1, partitions=frozenset({"a"})), backend(2, partitions=frozenset({"b"})))
    async with running(*records, partitions=frozenset({"b"})) as harness:
        assert [m.key for m in harness.balancer.pool.members()] == [node_key(2)]
        assert harness.fleet.opened == [(node_key(2), "https://127.0.0.1:10009")]


async def test_consistent_mapping_is_stable_while_healthy(autojump_clock: MockClock) -> None:
    cfg = make_config(strategy="consistent")
    async with running(backend(1), backend(2), backend(3), cfg=cfg) as harness:
        keys = [f"comment {i}" for i in range(30)]
        mapping = {key: (await harness.issue(key=key)).backend_key for key in keys}
        assert len(set(mapping.values())) == 3
        for key in keys:
            assert (await harness.issue(key=key)).backend_key == mapping[key]
        harness.node(3).fault = "down"
        await trio.sleep(harness.balancer.config.health.interval * 3)
        for key in keys:
            issued = await harness.issue(key=key)
            if mapping[key] != node_key(3):
                assert issued.backend_key == mapping[key]
            else:
                assert issued.backend_key != node_key(3)


async def test_capacity_bias_prefers_nodes_that_can_receive(autojump_clock: MockClock) -> None:
    cfg = make_config(capacity_bias=0.5)
    async with running(backend(1, weight=5), backend(2), cfg=cfg) as harness:
        harness.node(1).inbound = 1_000_000
        harness.node(2).inbound = 3_000_000
        await trio.sleep(harness.balancer.config.health.interval * 2)
        used = await split(harness, 10, amount=1_500_000)  # needs 2 250 000 inbound
        assert used == {node_key(2): 10}
        used = await split(harness, 12, amount=100_000)  # both qualify: weights apply
        assert used == {node_key(1): 10, node_key(2): 2}
        harness.node(2).fault = "down"  # falls back to the node without capacity
        used = await split(harness, 4, amount=1_500_000)
        assert used == {node_key(1): 4}
