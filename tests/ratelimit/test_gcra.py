"""The GCRA table: nginx ``burst=N-1 nodelay`` semantics, LRU cap and sweep."""

from __future__ import annotations

import pytest

from switchgeard.ratelimit.gcra import GcraTable
from switchgeard.ratelimit.rules import Rule


def _admit(table: GcraTable, key: str, now: float) -> bool:
    if table.wait(key, now) > 0:
        return False
    table.commit(key, now)
    return True


def test_burst_then_rate_like_nginx_nodelay() -> None:
    table = GcraTable(Rule(interval=0.5, burst=4), cap=10)
    assert [_admit(table, "a", 0.0) for _ in range(8)] == [True] * 4 + [False] * 4
    assert table.wait("a", 0.0) == pytest.approx(0.5)
    assert not _admit(table, "a", 0.49)
    assert table.wait("a", 0.49) == pytest.approx(0.01)
    assert _admit(table, "a", 0.5)


def test_keys_are_independent() -> None:
    table = GcraTable(Rule(interval=1.0, burst=1), cap=10)
    assert _admit(table, "a", 0.0)
    assert not _admit(table, "a", 0.0)
    assert _admit(table, "b", 0.0)


def test_cap_evicts_least_recently_used() -> None:
    table = GcraTable(Rule(interval=60.0, burst=1), cap=3)
    for key in "abc":
        table.commit(key, 0.0)
    table.commit("a", 0.0)  # refreshes a
    table.commit("d", 0.0)  # evicts b, the least recently used
    assert len(table) == 3
    assert table.wait("b", 0.0) == 0.0
    assert table.wait("a", 0.0) > 0.0


def test_sweep_drops_only_expired_keys() -> None:
    table = GcraTable(Rule(interval=1.0, burst=1), cap=10)
    table.commit("old", 0.0)
    table.commit("new", 5.0)
    assert table.sweep(3.0) == 1
    assert len(table) == 1
    assert table.wait("new", 5.0) > 0.0


def test_resize_trims() -> None:
    table = GcraTable(Rule(interval=1.0, burst=1), cap=10)
    for index in range(10):
        table.commit(str(index), 0.0)
    table.resize(4)
    assert len(table) == 4
