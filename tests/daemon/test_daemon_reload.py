"""Reloads in the running daemon: a section reported as applied live really changes behaviour."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import httpx
import trio

from switchgeard.config import load_config
from switchgeard.daemon.compose import run_daemon

OFFER = f"/offers/default/{uuid.uuid4()}"


def config_text(tmp_path: Path, lnurl: str = "") -> str:
    return (
        f'[store]\nurl = "sqlite://{tmp_path}/x.db"\n'
        f'[lnurl]\nlisten = ["127.0.0.1:0"]\n{lnurl}'
        f'[admin]\nsocket = "{tmp_path}/admin.sock"\n'
        '[telemetry]\nprometheus_listen = ""\n'
    )


async def test_a_reloaded_lnurl_section_reaches_the_public_app(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(config_text(tmp_path))
    async with trio.open_nursery() as nursery:
        addresses = await nursery.start(run_daemon, load_config(path))
        public = httpx.AsyncClient(base_url=addresses.lnurl[0], timeout=5)
        admin = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=addresses.admin.removeprefix("unix:")),
            base_url="http://admin",
            timeout=5,
        )
        async with public, admin:
            assert (await public.get(OFFER)).status_code == 404  # any Host, no such offer
            before = (await admin.get("/status")).json()
            assert (before["publicUrl"], before["partitions"]) == (None, {"default": False})
            reloaded = 'allowed_hosts = ["pay.example.com"]\npartitions = ["default", "eu"]\n'
            path.write_text(config_text(tmp_path, reloaded))
            answer = await admin.post("/reload", params={"wait": "true"})
            assert answer.status_code == 200
            assert answer.json()["reload"]["changed"] == ["lnurl"]
            after = (await admin.get("/status")).json()
            assert after["publicUrl"] == "https://pay.example.com"
            assert after["partitions"] == {"default": False, "eu": False}
            refused = await public.get(OFFER)
            assert refused.status_code == 400
            assert "not served here" in refused.json()["reason"]
            served = await public.get(OFFER, headers={"Host": "pay.example.com"})
            assert served.status_code == 404
        os.kill(os.getpid(), signal.SIGTERM)
