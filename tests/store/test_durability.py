"""Acknowledged SQLite writes survive SIGKILL of the writing process."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import trio

from switchgeard.config.model import StoreConfig
from switchgeard.store import open_store
from switchgeard.store.records import Page

CHILD = Path(__file__).with_name("durability_child.py")
ACKED_BEFORE_KILL = 60


async def _read_lines_until(stream: trio.abc.ReceiveStream, wanted: int) -> bytes:
    data = b""
    while data.count(b"\n") < wanted:
        chunk = await stream.receive_some()
        if not chunk:
            break
        data += chunk
    return data


async def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "durable.db"
    url = f"sqlite:///{path}"
    process = await trio.lowlevel.open_process(
        [sys.executable, str(CHILD), url], stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    with trio.fail_after(20):
        output = await _read_lines_until(process.stdout, ACKED_BEFORE_KILL)
        process.kill()  # SIGKILL, mid-stream
        await process.wait()
        while chunk := await process.stdout.receive_some():
            output += chunk
    await process.stdout.aclose()
    assert process.returncode == -9
    complete = output.decode().split("\n")[:-1]  # a torn last line was never acknowledged
    acked = [line.split() for line in complete]
    assert len(acked) >= ACKED_BEFORE_KILL

    async with open_store(StoreConfig(url=url, page_max=10_000)) as store:
        stored = {m.id for m in await store.list_metadata("default", Page(count=10_000))}
        counter = int(await store.get_sync_state("counter") or -1)
        invoices = {kind_key[1] for kind_key in acked if kind_key[0] == "invoice"}
        for payment_hash in invoices:  # the ledger's inline writes (no fsync) survive too
            assert (await store.get_invoice(payment_hash)).payment_hash == payment_hash
    assert invoices
    for kind, key in acked:
        if kind == "metadata":
            assert uuid.UUID(key) in stored
        elif kind == "counter":
            assert counter >= int(key)

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
