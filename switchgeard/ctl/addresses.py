"""``switchgear-ctl address ...``: Lightning Addresses (LUD-16), ``user@domain``.

An address is named by ``USER@DOMAIN`` or by ``--username`` and ``--domain``. Addresses
synced from LDAP can only be enabled and disabled; the daemon refuses other changes.
"""

from __future__ import annotations

import argparse
import base64
from typing import Any

from switchgeard.admin import protocol
from switchgeard.ctl.context import (
    Context,
    UsageError,
    dash,
    non_negative,
    read_json_file,
    yes_no,
)
from switchgeard.ctl.offers import image_from_file

_FIELD_FLAGS = (
    ("partition", "partition"),
    ("text", "text"),
    ("long_text", "longText"),
    ("email", "isEmail"),
    ("min", "minSendable"),
    ("max", "maxSendable"),
    ("comment_allowed", "commentAllowed"),
)


def add_address_verbs(noun: argparse.ArgumentParser) -> None:
    """The verbs of ``address``: Lightning Addresses."""
    verbs = noun.add_subparsers(dest="verb", required=True, metavar="VERB")
    add = verbs.add_parser("add", help="add a local address (flags or a JSON file)")
    _add_name(add)
    _add_field_flags(add, partition_default="default")
    add.add_argument("--from-file", metavar="FILE", help="Address JSON, - for stdin")
    add.set_defaults(run=add_address)
    listing = verbs.add_parser("list", help="list addresses")
    listing.add_argument("--domain", help="only this domain")
    listing.add_argument("--source", choices=("local", "ldap"), help="only local or LDAP ones")
    listing.add_argument("--start", type=non_negative, metavar="N", help="skip N addresses")
    listing.add_argument("--count", type=non_negative, metavar="N", help="at most N addresses")
    listing.set_defaults(run=list_addresses)
    show = verbs.add_parser("show", help="show one address")
    _add_name(show)
    show.set_defaults(run=show_address)
    update = verbs.add_parser("update", help="change a local address (flags or a JSON file)")
    _add_name(update)
    _add_field_flags(update, partition_default=None)
    update.add_argument("--from-file", metavar="FILE", help="replace from Address JSON")
    update.set_defaults(run=update_address)
    remove = verbs.add_parser("remove", help="remove a local address")
    _add_name(remove)
    remove.set_defaults(run=remove_address)
    for verb, enabled in (("enable", True), ("disable", False)):
        toggle = verbs.add_parser(verb, help=f"{verb} an address (local or from LDAP)")
        _add_name(toggle)
        toggle.set_defaults(run=set_enabled, enabled=enabled)


def _add_name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", nargs="?", metavar="USER@DOMAIN")
    parser.add_argument("--username", metavar="USER")
    parser.add_argument("--domain", metavar="DOMAIN")


def _add_field_flags(parser: argparse.ArgumentParser, *, partition_default: str | None) -> None:
    parser.add_argument("--partition", default=partition_default, metavar="P")
    parser.add_argument("--text", help="what wallets show")
    parser.add_argument("--long-text", help="long description")
    parser.add_argument("--image", metavar="FILE", help="PNG or JPEG image")
    parser.add_argument(
        "--email",
        action=argparse.BooleanOptionalAction,
        help="the address is also a mailbox (text/email instead of text/identifier)",
    )
    parser.add_argument("--min", type=non_negative, metavar="MSAT")
    parser.add_argument("--max", type=non_negative, metavar="MSAT")
    parser.add_argument("--comment-allowed", type=non_negative, metavar="N", help="LUD-12 length")


def address_name(args: argparse.Namespace) -> tuple[str, str]:
    """``(username, domain)`` from ``USER@DOMAIN`` or ``--username``/``--domain``."""
    verb = f"address {args.verb}"
    username, domain = args.username, args.domain
    if args.address is not None:
        user, at, host = args.address.rpartition("@")
        if not (user and at and host):
            raise UsageError(f"{verb}: {args.address!r} is not USER@DOMAIN")
        if (username or user).lower() != user.lower() or (domain or host).lower() != host.lower():
            raise UsageError(f"{verb}: {args.address} disagrees with --username/--domain")
        username, domain = user, host
    if not username or not domain:
        raise UsageError(f"{verb}: give USER@DOMAIN, or --username and --domain")
    return username, domain


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    body = {key: getattr(args, flag) for flag, key in _FIELD_FLAGS}
    body = {key: value for key, value in body.items() if value is not None}
    if args.image is not None:
        body["image"] = image_from_file(args.image)
    return body


def _target(args: argparse.Namespace) -> tuple[str, str]:
    username, domain = address_name(args)
    return protocol.address_path(domain, username), f"address {username}@{domain}"


def add_address(args: argparse.Namespace, ctx: Context) -> int:
    if args.from_file:
        flags = [getattr(args, flag) for flag, _ in _FIELD_FLAGS[1:]] + [args.image]
        if args.address or args.username or args.domain or any(v is not None for v in flags):
            raise UsageError("address add: --from-file cannot be combined with other flags")
        body = read_json_file(args.from_file, ctx.stdin)
    else:
        username, domain = address_name(args)
        missing = [f"--{f}" for f in ("text", "min", "max") if getattr(args, f) is None]
        if missing:
            raise UsageError(f"address add: missing {', '.join(missing)} (or use --from-file)")
        body = {"domain": domain, "username": username, **_changes(args)}
    reply = ctx.call("POST", protocol.ADDRESSES, "add address", body=body)
    added = reply.json() or body
    return ctx.done(reply, f"added address {added.get('username')}@{added.get('domain')}")


def list_addresses(args: argparse.Namespace, ctx: Context) -> int:
    query = {"domain": args.domain, "source": args.source, "start": args.start}
    query = {k: v for k, v in (query | {"count": args.count}).items() if v is not None}
    found = ctx.get_json(protocol.ADDRESSES, "list addresses", query)
    if found is None:
        return 0
    rows = [
        [
            f"{a['username']}@{a['domain']}",
            a["source"],
            yes_no(a["enabled"]),
            a["partition"],
            str(a["minSendable"]),
            str(a["maxSendable"]),
            a["text"],
        ]
        for a in found
    ]
    columns = ["address", "source", "enabled", "partition", "min msat", "max msat", "text"]
    ctx.out.table(columns, rows)
    return 0


def show_address(args: argparse.Namespace, ctx: Context) -> int:
    target, what = _target(args)
    a = ctx.get_json(target, what)
    if a is None:
        return 0
    image = a.get("image") or {}
    source = a["source"] + (f" (entry {a['externalId']})" if a.get("externalId") else "")
    ctx.out.fields(
        [
            ("address", f"{a['username']}@{a['domain']}"),
            ("source", source),
            ("enabled", yes_no(a["enabled"])),
            ("partition", a["partition"]),
            ("min msat", str(a["minSendable"])),
            ("max msat", str(a["maxSendable"])),
            ("comments", str(a.get("commentAllowed", 0))),
            ("text", a["text"]),
            ("long text", dash(a.get("longText"))),
            (
                "image",
                ", ".join(f"{k}, {len(base64.b64decode(v))} bytes" for k, v in image.items())
                or "-",
            ),
            ("mailbox", yes_no(a.get("isEmail"))),
        ]
    )
    return 0


def update_address(args: argparse.Namespace, ctx: Context) -> int:
    target, what = _target(args)
    changes = _changes(args)
    if args.from_file and changes:
        raise UsageError("address update: --from-file cannot be combined with field flags")
    if args.from_file:
        return ctx.put(target, what, read_json_file(args.from_file, ctx.stdin))
    if not changes:
        raise UsageError("address update: give --from-file or at least one field flag")
    reply = ctx.call("PATCH", target, f"update {what}", body=changes)
    return ctx.done(reply, f"updated {what}")


def remove_address(args: argparse.Namespace, ctx: Context) -> int:
    return ctx.remove(*_target(args))


def set_enabled(args: argparse.Namespace, ctx: Context) -> int:
    target, what = _target(args)
    verb = "enable" if args.enabled else "disable"
    reply = ctx.call("PATCH", target, f"{verb} {what}", body={"enabled": args.enabled})
    return ctx.done(reply, f"{verb}d {what}")
