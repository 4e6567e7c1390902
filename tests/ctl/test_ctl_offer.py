"""``switchgear-ctl offer ...`` and ``metadata ...`` against a running daemon."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import lnurl
import trio

from ctl.conftest import Daemon, run_ctl
from switchgeard.admin.ports import AdminDeps, DaemonInfo
from switchgeard.config.model import StoreConfig
from switchgeard.store import open_store

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
M1 = str(uuid.UUID(int=1))


async def test_metadata_verbs(daemon: Daemon, tmp_path: Path) -> None:
    image = tmp_path / "logo.png"
    image.write_bytes(PNG)
    created = await daemon.ctl(
        "metadata", "create", "--id", M1, "--text", "Coffee", "--image", str(image),
        "--email", "shop@example.com",
    )  # fmt: skip
    assert (created.code, created.out) == (0, f"created metadata default/{M1}\n")
    other = await daemon.ctl("metadata", "create", "--partition", "eu", "--text", "Tea")
    other_id = re.fullmatch(r"created metadata eu/(\S+)\n", other.out).group(1)  # type: ignore[union-attr]
    listed = await daemon.ctl("metadata", "list")
    assert listed.lines == [
        "PARTITION  ID                                    TEXT    IMAGE",
        f"default    {M1}  Coffee  png",
        f"eu         {other_id}  Tea     -",
    ]
    assert len((await daemon.ctl("metadata", "list", "--partition", "eu")).lines) == 2
    assert len((await daemon.ctl("metadata", "list", "--start", "1", "--count", "1")).lines) == 2
    shown = await daemon.ctl("metadata", "show", "default", M1)
    assert shown.lines == [
        f"metadata:   default/{M1}",
        "text:       Coffee",
        "long text:  -",
        "image:      png, 24 bytes",
        "identifier: email shop@example.com",
    ]
    updated = await daemon.ctl("metadata", "update", "default", M1, "--long-text", "Freshly ground")
    assert updated.out == f"updated metadata default/{M1}\n"
    got = json.loads((await daemon.ctl("--json", "metadata", "show", "default", M1)).out)
    assert (got["text"], got["longText"], got["image"]) == (
        "Coffee",
        "Freshly ground",
        {"png": base64.b64encode(PNG).decode()},
    )
    nothing = await daemon.ctl("metadata", "update", "default", M1)
    assert nothing.code == 2
    removed = await daemon.ctl("metadata", "remove", "default", M1)
    assert removed.out == f"removed metadata default/{M1}\n"
    gone = await daemon.ctl("metadata", "show", "default", M1)
    assert (
        gone.code,
        gone.err.startswith(f"switchgear-ctl: metadata default/{M1}: not found"),
    ) == (1, True)


async def test_offer_create_prints_url_lnurl_and_qr(daemon: Daemon) -> None:
    created = await daemon.ctl(
        "offer", "create", "--min", "1000", "--max", "5000000", "--text", "Coffee"
    )
    assert created.code == 0, created.err
    first, url_line, lnurl_line, *qr = created.lines
    match = re.fullmatch(r"created offer default/(\S+) \(metadata (\S+)\)", first)
    assert match is not None
    offer_id = match.group(1)
    url = f"https://pay.example.com/offers/default/{offer_id}"
    assert url_line == f"url:   {url}"
    encoded = lnurl_line.removeprefix("lnurl: ")
    assert encoded.startswith("LNURL1")
    assert str(lnurl.decode(encoded)) == url
    assert len(qr) > 10
    assert set("".join(qr)) <= set(" ▀▄█")
    listed = await daemon.ctl("offer", "list")
    assert listed.lines == [
        "PARTITION  ID                                    MIN MSAT  MAX MSAT  METADATA"
        + " " * 30
        + "EXPIRES",
        f"default    {offer_id}  1000      5000000   {match.group(2)}  -",
    ]


async def test_offer_show_update_remove(daemon: Daemon) -> None:
    created = await daemon.ctl(
        "offer", "create", "--partition", "eu", "--min", "1000", "--max", "2000", "--text", "Tea",
        "--long-text", "Green", "--identifier", "tea@example.com", "--comment-allowed", "100",
        "--expires", "2031-01-01T00:00:00Z", "--no-qr",
    )  # fmt: skip
    assert created.code == 0, created.err
    offer_id, meta_id = re.findall(r"[0-9a-f-]{36}", created.lines[0])
    assert created.lines[1:] == [
        f"url:   https://pay.example.com/offers/eu/{offer_id}",
        created.lines[2],
    ]
    shown = await daemon.ctl("offer", "show", "eu", offer_id)
    valid_from = json.loads((await daemon.ctl("--json", "offer", "show", "eu", offer_id)).out)[
        "timestamp"
    ]
    assert shown.lines == [
        f"offer:      eu/{offer_id}",
        "min msat:   1000",
        "max msat:   2000",
        "comments:   100",
        f"valid from: {valid_from}",
        "expires:    2031-01-01T00:00:00Z",
        f"metadata:   {meta_id}",
        "text:       Tea",
        "long text:  Green",
        "image:      -",
        "identifier: text tea@example.com",
    ]
    updated = await daemon.ctl("offer", "update", "eu", offer_id, "--max", "9000")
    assert updated.out == f"updated offer eu/{offer_id}\n"
    assert (
        json.loads((await daemon.ctl("--json", "offer", "show", "eu", offer_id)).out)["maxSendable"]
        == 9000
    )
    bad = await daemon.ctl("offer", "update", "eu", offer_id, "--min", "10000")
    assert bad.code == 1
    assert bad.err.startswith(f"switchgear-ctl: update offer eu/{offer_id}: invalid value: ")
    in_use = await daemon.ctl("metadata", "remove", "eu", meta_id)
    assert in_use.code == 1
    assert (
        await daemon.ctl("offer", "remove", "eu", offer_id)
    ).out == f"removed offer eu/{offer_id}\n"
    assert (await daemon.ctl("offer", "list", "--partition", "eu")).lines == [
        "PARTITION  ID  MIN MSAT  MAX MSAT  METADATA  EXPIRES"
    ]


async def test_offer_create_rolls_back_its_metadata(daemon: Daemon) -> None:
    failed = await daemon.ctl("offer", "create", "--min", "5", "--max", "1", "--text", "Bad")
    assert failed.code == 1
    assert failed.err.startswith("switchgear-ctl: create offer: invalid value: ")
    assert (await daemon.ctl("--json", "metadata", "list")).out.strip() == "[]"


async def test_paging_flags(daemon: Daemon) -> None:
    for n in range(3):
        assert (
            await daemon.ctl(
                "offer", "create", "--min", "1", "--max", "2", "--text", f"o{n}", "--no-qr"
            )
        ).code == 0
    all_ids = [o["id"] for o in json.loads((await daemon.ctl("--json", "offer", "list")).out)]
    page = json.loads(
        (await daemon.ctl("--json", "offer", "list", "--start", "1", "--count", "1")).out
    )
    assert [o["id"] for o in page] == all_ids[1:2]
    too_many = await daemon.ctl("offer", "list", "--count", "100000")
    assert too_many.code == 1
    assert "count" in too_many.err


async def test_updates_from_files(daemon: Daemon, tmp_path: Path) -> None:
    await daemon.ctl("metadata", "create", "--id", M1, "--text", "Old")
    piped = await daemon.ctl(
        "metadata", "update", "default", M1, "--from-file", "-", stdin='{"text": "New"}'
    )
    assert piped.out == f"updated metadata default/{M1}\n"
    offer_id = str(uuid.UUID(int=77))
    file = tmp_path / "offer.json"
    body = {
        "minSendable": 1,
        "maxSendable": 2,
        "metadataId": M1,
        "timestamp": "2024-01-01T00:00:00Z",
    }
    file.write_text(json.dumps(body), encoding="utf-8")
    created = await daemon.ctl("offer", "update", "default", offer_id, "--from-file", str(file))
    assert created.out == f"created offer default/{offer_id}\n"
    file.write_text(json.dumps(body | {"maxSendable": 3}), encoding="utf-8")
    updated = await daemon.ctl("offer", "update", "default", offer_id, "--from-file", str(file))
    assert updated.out == f"updated offer default/{offer_id}\n"
    shown = json.loads((await daemon.ctl("--json", "offer", "show", "default", offer_id)).out)
    assert (shown["maxSendable"], shown["metadata"]["text"]) == (3, "New")
    file.write_text(json.dumps(body | {"colour": "red"}), encoding="utf-8")
    refused = await daemon.ctl("offer", "update", "default", offer_id, "--from-file", str(file))
    assert refused.err == (
        f"switchgear-ctl: update offer default/{offer_id}: "
        "unknown field: colour: not a field of this resource\n"
    )


async def test_offer_create_without_a_public_url_prints_the_path(
    tmp_path: Path, short_dir: Path, nursery: trio.Nursery
) -> None:
    from admin.conftest import serve_app_on_socket

    async with open_store(StoreConfig(url=f"sqlite:///{tmp_path}/x.db")) as store:
        info = DaemonInfo(
            version="0", started_at=datetime.now(UTC), config_file=None, store_kind="sqlite"
        )
        socket = short_dir / "bare.sock"
        await serve_app_on_socket(AdminDeps(store=store, info=info), socket, nursery)
        ran = await run_ctl(
            "--socket", str(socket), "offer", "create", "--min", "1", "--max", "2", "--text", "x"
        )
        nursery.cancel_scope.cancel()
    assert ran.code == 0, ran.err
    offer_id = re.findall(r"[0-9a-f-]{36}", ran.lines[0])[0]
    assert ran.lines[1:] == [
        f"path: /offers/default/{offer_id}",
        "no public URL known: set lnurl.allowed_hosts to get the LNURL and QR",
    ]
