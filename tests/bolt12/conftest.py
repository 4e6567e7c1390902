"""Shared fixtures for the bolt12 tests: the official BOLT vectors and a count summary.

The vectors live beside the checkout (``<repo>/../shared/bolts-test-vectors``); tests that
need them skip with a reason only when that folder is absent.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO.parent / "shared" / "bolts-test-vectors"

_COUNTS: Counter[str] = Counter()


def load_vectors(relative: str) -> Any:
    """Parsed JSON of one vector file, or a skip when the vector folder is absent."""
    path = VECTORS / relative
    if not VECTORS.is_dir():
        pytest.skip(f"BOLT test vectors not found at {VECTORS}")
    return json.loads(path.read_text())


def record_vectors(name: str, count: int) -> None:
    """Count vectors a test has checked; printed in the terminal summary."""
    _COUNTS[name] += count


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _COUNTS:
        terminalreporter.section("BOLT vectors checked")
        for name, count in sorted(_COUNTS.items()):
            terminalreporter.write_line(f"{name}: {count}")
