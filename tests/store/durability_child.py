"""Child process for the durability test: acknowledged writes until it is killed.

Usage: ``python durability_child.py sqlite:///path.db``. After each write returns it prints
``<kind> <key>`` and flushes, so every printed line is a write the store acknowledged.
"""

from __future__ import annotations

import sys
import uuid

import trio

from switchgeard.config.model import StoreConfig
from switchgeard.store import open_store
from switchgeard.store.records import Metadata


async def main(url: str) -> None:
    async with open_store(StoreConfig(url=url)) as store:
        for n in range(1_000_000):
            meta = await store.create_metadata(
                Metadata(partition="default", id=uuid.uuid4(), text=f"write {n}")
            )
            print(f"metadata {meta.id}", flush=True)
            await store.set_sync_state("counter", str(n))
            print(f"counter {n}", flush=True)


if __name__ == "__main__":
    trio.run(main, sys.argv[1])
