"""``Node``: what the ``node`` fixture gives a test that runs against LND and against CLN."""

from __future__ import annotations

from typing import NamedTuple

from switchgeard.lightning import LightningBackend
from switchgeard.testing.fakebase import FakeNode


class Node(NamedTuple):
    """One fake node of either kind and the adapter bound to it."""

    kind: str
    fake: FakeNode
    backend: LightningBackend
