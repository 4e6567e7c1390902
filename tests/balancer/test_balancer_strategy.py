"""Strategies as pure functions: weights, failover order, ring consistency, capacity bias."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from balancer_fakes import node_key

from switchgeard.balancer.strategy import (
    Candidate,
    ConsistentHash,
    SmoothRoundRobin,
    Strategy,
    WeightedRandom,
    make_strategy,
    split_by_capacity,
)
from switchgeard.units import Msat

A, B, C = node_key(1), node_key(2), node_key(3)


def first_choices(strategy: Strategy, candidates: list[Candidate], rounds: int) -> Counter[str]:
    counts: Counter[str] = Counter()
    for _ in range(rounds):
        order = strategy.order("p", candidates, None)
        assert sorted(order) == sorted(c.key for c in candidates)
        counts[order[0]] += 1
    return counts


def test_smooth_round_robin_splits_exactly_by_weight() -> None:
    counts = first_choices(SmoothRoundRobin(), [Candidate(A, 3), Candidate(B, 1)], 400)
    assert counts == {A: 300, B: 100}


def test_smooth_round_robin_interleaves() -> None:
    strategy = SmoothRoundRobin()
    picks = [strategy.order("p", [Candidate(A, 2), Candidate(B, 1)], None)[0] for _ in range(6)]
    assert picks == [A, B, A, A, B, A]


def test_round_robin_state_is_per_scope() -> None:
    strategy = SmoothRoundRobin()
    pair = [Candidate(A, 1), Candidate(B, 1)]
    assert strategy.order("x", pair, None)[0] == A
    assert strategy.order("y", pair, None)[0] == A
    assert strategy.order("x", pair, None)[0] == B


def test_weighted_random_splits_by_weight() -> None:
    strategy = WeightedRandom(random.Random(7))
    counts = first_choices(strategy, [Candidate(A, 3), Candidate(B, 1)], 400)
    assert 270 <= counts[A] <= 330


def test_consistent_hash_is_stable_and_weighted() -> None:
    strategy = ConsistentHash()
    three = [Candidate(A, 3), Candidate(B, 1), Candidate(C, 1)]
    first = {f"k{i}": strategy.order("p", three, f"k{i}")[0] for i in range(3000)}
    assert all(strategy.order("p", three, k)[0] == v for k, v in first.items())
    share = Counter(first.values())
    assert 0.6 * 0.85 <= share[A] / 3000 <= 0.6 * 1.15
    # Removing C moves only C's keys; the others keep their backend.
    two = [Candidate(A, 3), Candidate(B, 1)]
    for key, owner in first.items():
        if owner != C:
            assert strategy.order("p", two, key)[0] == owner


def test_consistent_hash_without_key_spreads_like_round_robin() -> None:
    strategy = ConsistentHash()
    counts = first_choices(strategy, [Candidate(A, 1), Candidate(B, 1)], 10)
    assert counts == {A: 5, B: 5}


def test_empty_candidates() -> None:
    for name in ("round-robin", "random", "consistent"):
        assert make_strategy(name).order("p", [], "key") == []


def test_unknown_strategy() -> None:
    with pytest.raises(ValueError, match="unknown balancer strategy 'fastest'"):
        make_strategy("fastest")


def test_capacity_split_needs_amount_times_one_plus_bias() -> None:
    candidates = [Candidate(A, 1), Candidate(B, 1), Candidate(C, 1)]
    inbound = {A: Msat(120_000), B: Msat(119_999), C: None}
    preferred, rest = split_by_capacity(candidates, inbound, Msat(100_000), 0.2)
    assert [c.key for c in preferred] == [A]
    assert [c.key for c in rest] == [B, C]
