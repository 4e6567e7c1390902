"""``switchgear-ctl offer ...`` and ``metadata ...``: LNURL-pay offers and what wallets show."""

from __future__ import annotations

import argparse
import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from switchgeard.admin import protocol
from switchgeard.ctl.context import (
    Context,
    UsageError,
    dash,
    non_negative,
    read_json_file,
)
from switchgeard.ctl.failures import CtlError
from switchgeard.ctl.lnurl import encode_lnurl, print_qr


def _add_paging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--partition", metavar="P", help="only this partition")
    parser.add_argument("--start", type=non_negative, metavar="N", help="skip N records")
    parser.add_argument("--count", type=non_negative, metavar="N", help="at most N records")


def _add_item(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("partition", metavar="PARTITION")
    parser.add_argument("id", metavar="ID")


def _add_metadata_flags(parser: argparse.ArgumentParser, *, text_required: bool) -> None:
    parser.add_argument("--text", required=text_required, help="short description")
    parser.add_argument("--long-text", help="long description")
    parser.add_argument("--image", metavar="FILE", help="PNG or JPEG image")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--email", metavar="ADDR", help="payer-visible e-mail identifier")
    who.add_argument("--identifier", metavar="ADDR", help="payer-visible text identifier")


def add_offer_verbs(noun: argparse.ArgumentParser) -> None:
    """The verbs of ``offer``: LNURL-pay offers."""
    verbs = noun.add_subparsers(dest="verb", required=True, metavar="VERB")
    create = verbs.add_parser("create", help="create metadata and an offer in one step")
    create.add_argument("--partition", default="default", metavar="P")
    create.add_argument("--min", type=non_negative, required=True, metavar="MSAT")
    create.add_argument("--max", type=non_negative, required=True, metavar="MSAT")
    _add_metadata_flags(create, text_required=True)
    _add_offer_flags(create)
    create.add_argument("--no-qr", action="store_true", help="do not draw the QR code")
    create.set_defaults(run=create_offer)
    listing = verbs.add_parser("list", help="list offers")
    _add_paging(listing)
    listing.set_defaults(run=list_offers)
    show = verbs.add_parser("show", help="show an offer and its metadata")
    _add_item(show)
    show.set_defaults(run=show_offer)
    update = verbs.add_parser("update", help="change an offer (flags or a JSON file)")
    _add_item(update)
    update.add_argument("--min", type=non_negative, metavar="MSAT")
    update.add_argument("--max", type=non_negative, metavar="MSAT")
    _add_offer_flags(update)
    update.add_argument("--from-file", metavar="FILE", help="OfferRecord JSON, - for stdin")
    update.set_defaults(run=update_offer)
    remove = verbs.add_parser("remove", help="remove an offer")
    _add_item(remove)
    remove.set_defaults(run=remove_offer)


def _add_offer_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--expires", metavar="RFC3339", help="e.g. 2030-01-01T00:00:00Z")
    parser.add_argument("--comment-allowed", type=non_negative, metavar="N", help="LUD-12 length")


def add_metadata_verbs(noun: argparse.ArgumentParser) -> None:
    """The verbs of ``metadata``: what wallets show for offers."""
    verbs = noun.add_subparsers(dest="verb", required=True, metavar="VERB")
    listing = verbs.add_parser("list", help="list metadata")
    _add_paging(listing)
    listing.set_defaults(run=list_metadata)
    show = verbs.add_parser("show", help="show metadata")
    _add_item(show)
    show.set_defaults(run=show_metadata)
    create = verbs.add_parser("create", help="create metadata")
    create.add_argument("--partition", default="default", metavar="P")
    create.add_argument("--id", metavar="UUID", help="default: a new random id")
    _add_metadata_flags(create, text_required=True)
    create.set_defaults(run=create_metadata)
    update = verbs.add_parser("update", help="change metadata (flags or a JSON file)")
    _add_item(update)
    _add_metadata_flags(update, text_required=False)
    update.add_argument("--from-file", metavar="FILE", help="OfferMetadata JSON, - for stdin")
    update.set_defaults(run=update_metadata)
    remove = verbs.add_parser("remove", help="remove metadata")
    _add_item(remove)
    remove.set_defaults(run=remove_metadata)


def _paging(args: argparse.Namespace) -> dict[str, object]:
    return {k: v for k, v in (("start", args.start), ("count", args.count)) if v is not None}


def list_offers(args: argparse.Namespace, ctx: Context) -> int:
    offers = ctx.get_json(protocol.offers_path(args.partition), "list offers", _paging(args))
    if offers is None:
        return 0
    rows = [
        [
            o["partition"],
            o["id"],
            str(o["minSendable"]),
            str(o["maxSendable"]),
            o["metadataId"],
            dash(o.get("expires")),
        ]
        for o in offers
    ]
    columns = ["partition", "id", "min msat", "max msat", "metadata", "expires"]
    ctx.out.table(columns, rows)
    return 0


def show_offer(args: argparse.Namespace, ctx: Context) -> int:
    target = protocol.offer_path(args.partition, args.id)
    offer = ctx.get_json(target, f"offer {args.partition}/{args.id}", {"sparse": False})
    if offer is None:
        return 0
    fields = [
        ("offer", f"{offer['partition']}/{offer['id']}"),
        ("min msat", str(offer["minSendable"])),
        ("max msat", str(offer["maxSendable"])),
        ("comments", str(offer.get("commentAllowed", 0))),
        ("valid from", offer["timestamp"]),
        ("expires", dash(offer.get("expires"))),
        ("metadata", offer["metadataId"]),
    ]
    ctx.out.fields(fields + _metadata_fields(offer.get("metadata", {})))
    return 0


def _metadata_fields(m: dict[str, Any]) -> list[tuple[str, str]]:
    image = m.get("image") or {}
    identifier = m.get("identifier") or {}
    return [
        ("text", dash(m.get("text"))),
        ("long text", dash(m.get("longText"))),
        (
            "image",
            ", ".join(f"{k}, {len(base64.b64decode(v))} bytes" for k, v in image.items()) or "-",
        ),
        ("identifier", ", ".join(f"{k} {v}" for k, v in identifier.items()) or "-"),
    ]


def metadata_from_flags(args: argparse.Namespace, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with the metadata flags applied."""
    body = dict(base)
    for flag, key in (("text", "text"), ("long_text", "longText")):
        if getattr(args, flag) is not None:
            body[key] = getattr(args, flag)
    if args.image is not None:
        body["image"] = image_from_file(args.image)
    if args.email is not None:
        body["identifier"] = {"email": args.email}
    elif args.identifier is not None:
        body["identifier"] = {"text": args.identifier}
    return body


def image_from_file(path: str) -> dict[str, str]:
    """``{"png"|"jpeg": base64}`` from an image file; ``CtlError`` names the file and why."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CtlError(f"cannot read image {path}: {exc.strerror or exc}") from exc
    kind = "png" if data.startswith(b"\x89PNG") else "jpeg" if data[:3] == b"\xff\xd8\xff" else ""
    if not kind:
        raise CtlError(f"image {path} is neither PNG nor JPEG")
    return {kind: base64.b64encode(data).decode()}


def _offer_changes(args: argparse.Namespace, body: dict[str, Any]) -> dict[str, Any]:
    pairs = [("min", "minSendable"), ("max", "maxSendable"), ("expires", "expires")]
    for flag, key in [*pairs, ("comment_allowed", "commentAllowed")]:
        if getattr(args, flag) is not None:
            body[key] = getattr(args, flag)
    return body


def _edited(
    args: argparse.Namespace,
    ctx: Context,
    target: str,
    what: str,
    apply: Callable[[argparse.Namespace, dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """An update's body: ``--from-file``, or the current record with the flags applied."""
    if args.from_file:
        return read_json_file(args.from_file, ctx.stdin)
    return apply(args, ctx.call("GET", target, what).json())


def create_offer(args: argparse.Namespace, ctx: Context) -> int:
    meta = metadata_from_flags(args, {"id": str(uuid.uuid4()), "partition": args.partition})
    ctx.call("POST", protocol.METADATA, "create metadata", body=meta)
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    offer = {"partition": args.partition, "id": str(uuid.uuid4()), "metadataId": meta["id"]}
    offer = _offer_changes(args, offer | {"timestamp": now})
    try:
        reply = ctx.call("POST", protocol.OFFERS, "create offer", body=offer)
    except CtlError:
        ctx.client.request("DELETE", protocol.metadata_path(args.partition, meta["id"]))
        raise
    if ctx.json:
        return ctx.done(reply, "")
    path = protocol.offer_path(args.partition, offer["id"])
    ctx.out.line(f"created offer {args.partition}/{offer['id']} (metadata {meta['id']})")
    status = ctx.call("GET", protocol.STATUS, "read the public URL").json()
    base = status.get("publicUrl") if isinstance(status, dict) else None
    if not base:
        ctx.out.fields([("path", path)])
        ctx.out.line("no public URL known: set lnurl.allowed_hosts to get the LNURL and QR")
        return 0
    url = base.rstrip("/") + path
    lnurl = encode_lnurl(url)
    ctx.out.fields([("url", url), ("lnurl", lnurl)])
    if not args.no_qr:
        print_qr(lnurl, ctx.out.stream)
    return 0


def update_offer(args: argparse.Namespace, ctx: Context) -> int:
    what = f"offer {args.partition}/{args.id}"
    target = protocol.offer_path(args.partition, args.id)
    return ctx.put(target, what, _edited(args, ctx, target, what, _offer_changes))


def remove_offer(args: argparse.Namespace, ctx: Context) -> int:
    target = protocol.offer_path(args.partition, args.id)
    return ctx.remove(target, f"offer {args.partition}/{args.id}")


def list_metadata(args: argparse.Namespace, ctx: Context) -> int:
    target = protocol.metadata_list_path(args.partition)
    items = ctx.get_json(target, "list metadata", _paging(args))
    if items is None:
        return 0
    rows = [
        [m["partition"], m["id"], m["text"], ",".join(m.get("image") or {}) or "-"] for m in items
    ]
    ctx.out.table(["partition", "id", "text", "image"], rows)
    return 0


def show_metadata(args: argparse.Namespace, ctx: Context) -> int:
    target = protocol.metadata_path(args.partition, args.id)
    m = ctx.get_json(target, f"metadata {args.partition}/{args.id}")
    if m is None:
        return 0
    ctx.out.fields([("metadata", f"{m['partition']}/{m['id']}"), *_metadata_fields(m)])
    return 0


def create_metadata(args: argparse.Namespace, ctx: Context) -> int:
    key = args.id or str(uuid.uuid4())
    body = metadata_from_flags(args, {"id": key, "partition": args.partition})
    reply = ctx.call("POST", protocol.METADATA, "create metadata", body=body)
    return ctx.done(reply, f"created metadata {args.partition}/{key}")


def update_metadata(args: argparse.Namespace, ctx: Context) -> int:
    what = f"metadata {args.partition}/{args.id}"
    target = protocol.metadata_path(args.partition, args.id)
    flags = ("text", "long_text", "image", "email", "identifier")
    if not args.from_file and all(getattr(args, f) is None for f in flags):
        raise UsageError("metadata update: give --from-file or at least one field flag")
    return ctx.put(target, what, _edited(args, ctx, target, what, metadata_from_flags))


def remove_metadata(args: argparse.Namespace, ctx: Context) -> int:
    target = protocol.metadata_path(args.partition, args.id)
    return ctx.remove(target, f"metadata {args.partition}/{args.id}")
