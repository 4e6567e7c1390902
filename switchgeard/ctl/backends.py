"""``switchgear-ctl backend ...``: the Lightning nodes the daemon balances over."""

from __future__ import annotations

import argparse
import os
from typing import Any

from switchgeard.admin import protocol
from switchgeard.ctl.context import (
    Context,
    SubParsers,
    UsageError,
    dash,
    non_negative,
    read_json_file,
    yes_no,
)


def add_backend_verbs(noun: argparse.ArgumentParser) -> None:
    """The verbs of ``backend``: Lightning nodes (the /discovery resource)."""
    verbs = noun.add_subparsers(dest="verb", required=True, metavar="VERB")
    verbs.add_parser("list", help="list backends").set_defaults(run=list_backends)
    show = verbs.add_parser("show", help="show one backend")
    show.add_argument("key", metavar="KEY")
    show.set_defaults(run=show_backend)
    _add_add_parser(verbs)
    update = verbs.add_parser("update", help="replace a backend from a JSON file")
    update.add_argument("key", metavar="KEY")
    update.add_argument("--from-file", required=True, metavar="FILE", help="JSON, - for stdin")
    update.set_defaults(run=update_backend)
    for verb, enabled in (("enable", True), ("disable", False)):
        toggle = verbs.add_parser(verb, help=f"{verb} a backend")
        toggle.add_argument("key", metavar="KEY")
        toggle.set_defaults(run=set_enabled, enabled=enabled)
    weight = verbs.add_parser("weight", help="set a backend's weight")
    weight.add_argument("key", metavar="KEY")
    weight.add_argument("weight", type=non_negative, metavar="N")
    weight.set_defaults(run=set_weight)
    remove = verbs.add_parser("remove", help="remove a backend")
    remove.add_argument("key", metavar="KEY")
    remove.set_defaults(run=remove_backend)


def _add_add_parser(verbs: SubParsers) -> None:
    add = verbs.add_parser(
        "add",
        help="add a backend",
        description="Add a backend from flags (--lnd or --cln) or from a JSON file. "
        "Credential paths are on the daemon's host; relative ones are made absolute.",
    )
    add.add_argument("--from-file", metavar="FILE", help="DiscoveryBackend JSON, - for stdin")
    add.add_argument("--key", metavar="PUBKEY", help="the node's public key (hex)")
    add.add_argument("--name")
    add.add_argument("--partition", action="append", metavar="P", help="repeatable")
    add.add_argument("--weight", type=non_negative, default=1)
    add.add_argument("--disabled", action="store_true", help="add it disabled")
    add.add_argument("--domain", help="TLS server name, if not the URL's host")
    add.add_argument("--lnd", metavar="URL", help="LND gRPC URL, e.g. https://host:10009")
    add.add_argument("--macaroon", metavar="FILE")
    add.add_argument("--tls-cert", metavar="FILE")
    add.add_argument("--amp", action="store_true", help="create AMP invoices (LND)")
    add.add_argument("--cln", metavar="URL", help="CLN gRPC URL, e.g. https://host:9736")
    add.add_argument("--ca", metavar="FILE")
    add.add_argument("--client-cert", metavar="FILE")
    add.add_argument("--client-key", metavar="FILE")
    add.set_defaults(run=add_backend)


def kind_of(backend: dict[str, Any]) -> str:
    kind = backend.get("implementation", {}).get("type")
    return {"lndGrpc": "lnd", "clnGrpc": "cln"}.get(kind, dash(kind))


def list_backends(args: argparse.Namespace, ctx: Context) -> int:
    backends = ctx.get_json(protocol.DISCOVERY, "list backends")
    if backends is None:
        return 0
    rows = [
        [
            b["publicKey"],
            dash(b.get("name")),
            kind_of(b),
            yes_no(b["enabled"]),
            str(b["weight"]),
            ",".join(b["partitions"]),
            b["implementation"].get("url", "-"),
        ]
        for b in backends
    ]
    ctx.out.table(["key", "name", "kind", "enabled", "weight", "partitions", "url"], rows)
    return 0


def show_backend(args: argparse.Namespace, ctx: Context) -> int:
    b = ctx.get_json(protocol.backend_path(args.key), f"backend {args.key}")
    if b is None:
        return 0
    impl = b["implementation"]
    auth = impl.get("auth", {})
    fields = [
        ("key", b["publicKey"]),
        ("name", dash(b.get("name"))),
        ("kind", kind_of(b)),
        ("url", impl.get("url", "-")),
        ("domain", dash(impl.get("domain"))),
        ("partitions", ",".join(b["partitions"]) or "-"),
        ("weight", str(b["weight"])),
        ("enabled", yes_no(b["enabled"])),
    ]
    labels = {"tlsCertPath": "tls cert", "macaroonPath": "macaroon", "caCertPath": "ca"}
    labels |= {"clientCertPath": "client cert", "clientKeyPath": "client key"}
    fields += [(label, dash(auth.get(k))) for k, label in labels.items() if k in auth]
    if "ampInvoice" in impl:
        fields.append(("amp invoices", yes_no(impl["ampInvoice"])))
    ctx.out.fields(fields)
    return 0


def add_backend(args: argparse.Namespace, ctx: Context) -> int:
    if args.from_file and (args.key or args.lnd or args.cln):
        raise UsageError("backend add: --from-file cannot be combined with --key, --lnd or --cln")
    body = read_json_file(args.from_file, ctx.stdin) if args.from_file else backend_from_flags(args)
    reply = ctx.call("POST", protocol.DISCOVERY, "add backend", body=body)
    key = (reply.json() or {}).get("publicKey", body.get("publicKey"))
    return ctx.done(reply, f"added backend {key}")


def backend_from_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The ``DiscoveryBackend`` JSON described by ``backend add``'s flags."""
    if not args.key:
        raise UsageError("backend add: --key is required (or use --from-file)")
    if bool(args.lnd) == bool(args.cln):
        raise UsageError("backend add: give exactly one of --lnd URL and --cln URL")
    body: dict[str, Any] = {
        "publicKey": args.key,
        "name": args.name,
        "partitions": args.partition or ["default"],
        "weight": args.weight,
        "enabled": not args.disabled,
        "implementation": _lnd(args) if args.lnd else _cln(args),
    }
    return body


def _path(value: str | None) -> str | None:
    return None if value is None else os.path.abspath(value)


def _require(args: argparse.Namespace, kind: str, names: tuple[str, ...]) -> None:
    missing = [f"--{n.replace('_', '-')}" for n in names if not getattr(args, n)]
    if missing:
        raise UsageError(f"backend add --{kind}: missing {', '.join(missing)}")


def _lnd(args: argparse.Namespace) -> dict[str, Any]:
    _require(args, "lnd", ("macaroon",))
    auth = {"type": "path", "macaroonPath": _path(args.macaroon)}
    auth["tlsCertPath"] = _path(args.tls_cert)
    impl = {"type": "lndGrpc", "url": args.lnd, "domain": args.domain, "auth": auth}
    return impl | {"ampInvoice": args.amp}


def _cln(args: argparse.Namespace) -> dict[str, Any]:
    _require(args, "cln", ("ca", "client_cert", "client_key"))
    auth = {
        "type": "path",
        "caCertPath": _path(args.ca),
        "clientCertPath": _path(args.client_cert),
        "clientKeyPath": _path(args.client_key),
    }
    return {"type": "clnGrpc", "url": args.cln, "domain": args.domain, "auth": auth}


def update_backend(args: argparse.Namespace, ctx: Context) -> int:
    body = read_json_file(args.from_file, ctx.stdin)
    return ctx.put(protocol.backend_path(args.key), f"backend {args.key}", body)


def set_enabled(args: argparse.Namespace, ctx: Context) -> int:
    verb = "enable" if args.enabled else "disable"
    target = protocol.backend_path(args.key)
    reply = ctx.call("PATCH", target, f"{verb} backend {args.key}", body={"enabled": args.enabled})
    return ctx.done(reply, f"{verb}d backend {args.key}")


def set_weight(args: argparse.Namespace, ctx: Context) -> int:
    target = protocol.backend_path(args.key)
    reply = ctx.call("PATCH", target, f"set weight of {args.key}", body={"weight": args.weight})
    return ctx.done(reply, f"backend {args.key} weight {args.weight}")


def remove_backend(args: argparse.Namespace, ctx: Context) -> int:
    return ctx.remove(protocol.backend_path(args.key), f"backend {args.key}")
