"""Selection strategies: pure orderings of candidate backends, best first.

Every strategy honours weights and returns *all* candidates, so the balancer can fail over
down the list. Only the first choice advances a strategy's state (round-robin), so failovers
do not skew the long-run split.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from switchgeard.units import Msat, NodeKey

STRATEGIES = ("round-robin", "random", "consistent")

POINTS_PER_WEIGHT = 40
"""Virtual nodes on the consistent-hash ring per unit of weight."""

MAX_RING_WEIGHT = 250
"""Weights above this count as this on the ring, bounding a ring at 10 000 points per node."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A backend that may serve the request, with its weight (always > 0)."""

    key: NodeKey
    weight: int


class Strategy(Protocol):
    """Orders candidates for one request; ``scope`` (the partition) separates state."""

    def order(
        self, scope: str, candidates: Sequence[Candidate], key: str | None
    ) -> list[NodeKey]: ...


class SmoothRoundRobin:
    """Smooth weighted round-robin: weights 3:1 give A A B A, A A B A, ... exactly.

    Each pick adds every candidate's weight to its running score, takes the highest score
    and subtracts the total weight from it. State is kept per scope.
    """

    def __init__(self) -> None:
        self._scores: dict[str, dict[NodeKey, int]] = {}

    def order(self, scope: str, candidates: Sequence[Candidate], key: str | None) -> list[NodeKey]:
        scores = self._scores.setdefault(scope, {})
        for stale in scores.keys() - {c.key for c in candidates}:
            del scores[stale]
        first = _smooth_pick(scores, candidates)
        if first is None:
            return []
        trial = dict(scores)
        rest = [c for c in candidates if c.key != first]
        ordered = [first]
        while rest:
            picked = _smooth_pick(trial, rest)
            assert picked is not None
            ordered.append(picked)
            rest = [c for c in rest if c.key != picked]
        return ordered


def _smooth_pick(scores: dict[NodeKey, int], candidates: Sequence[Candidate]) -> NodeKey | None:
    if not candidates:
        return None
    total = 0
    best: Candidate | None = None
    for candidate in candidates:
        scores[candidate.key] = scores.get(candidate.key, 0) + candidate.weight
        total += candidate.weight
        if best is None or scores[candidate.key] > scores[best.key]:
            best = candidate
    assert best is not None
    scores[best.key] -= total
    return best.key


class WeightedRandom:
    """Weighted random order without replacement (exponential race over the weights)."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def order(self, scope: str, candidates: Sequence[Candidate], key: str | None) -> list[NodeKey]:
        def race(candidate: Candidate) -> float:
            return -math.log(1.0 - self._rng.random()) / candidate.weight

        return [c.key for c in sorted(candidates, key=race)]


class ConsistentHash:
    """Consistent hashing over a ring with virtual nodes proportional to weight.

    The same key maps to the same backend while that backend stays a candidate; removing
    other backends never moves it. Without a key (no comment, no client address) the order
    falls back to smooth weighted round-robin, so key-less requests still spread out.
    """

    def __init__(self) -> None:
        self._rings: dict[tuple[Candidate, ...], HashRing] = {}
        self._fallback = SmoothRoundRobin()

    def order(self, scope: str, candidates: Sequence[Candidate], key: str | None) -> list[NodeKey]:
        if not key:
            return self._fallback.order(scope, candidates, key)
        members = tuple(sorted(candidates, key=lambda c: c.key))
        ring = self._rings.get(members)
        if ring is None:
            if len(self._rings) >= 64:
                self._rings.clear()
            ring = self._rings[members] = HashRing(members)
        return ring.walk(key)


class HashRing:
    """A hash ring: ``weight × POINTS_PER_WEIGHT`` points per backend, 64-bit BLAKE2b."""

    def __init__(self, members: Sequence[Candidate]) -> None:
        points: dict[int, NodeKey] = {}
        for member in members:
            for index in range(min(member.weight, MAX_RING_WEIGHT) * POINTS_PER_WEIGHT):
                points.setdefault(_hash64(f"{member.key}#{index}"), member.key)
        self._hashes = sorted(points)
        self._owners = [points[h] for h in self._hashes]
        self._size = len(members)

    def walk(self, key: str) -> list[NodeKey]:
        """Backends in ring order starting at ``key``'s position, each once."""
        if not self._hashes:
            return []
        start = bisect.bisect_left(self._hashes, _hash64(key))
        seen: dict[NodeKey, None] = {}
        count = len(self._hashes)
        for step in range(count):
            seen.setdefault(self._owners[(start + step) % count], None)
            if len(seen) == self._size:
                break
        return list(seen)


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def make_strategy(name: str, *, rng: random.Random | None = None) -> Strategy:
    """Build the strategy named in ``[balancer] strategy``; raises ``ValueError`` otherwise."""
    if name == "round-robin":
        return SmoothRoundRobin()
    if name == "random":
        return WeightedRandom(rng)
    if name == "consistent":
        return ConsistentHash()
    raise ValueError(f"unknown balancer strategy {name!r}; expected one of {STRATEGIES}")


def split_by_capacity(
    candidates: Sequence[Candidate],
    inbound: Mapping[NodeKey, Msat | None],
    amount: Msat,
    bias: float,
) -> tuple[list[Candidate], list[Candidate]]:
    """Split into (preferred, rest): preferred backends last reported inbound capacity of at
    least ``amount × (1 + bias)``. Backends with unknown capacity are never preferred."""
    need = int(amount) * (1 + Fraction(repr(bias)))  # the decimal the operator wrote, exactly
    preferred: list[Candidate] = []
    rest: list[Candidate] = []
    for candidate in candidates:
        capacity = inbound.get(candidate.key)
        (preferred if capacity is not None and capacity >= need else rest).append(candidate)
    return preferred, rest
