"""``switchgear-ctl status`` and ``reload``: what the daemon is doing, and re-reading its config."""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

from switchgeard.admin import protocol
from switchgeard.ctl.context import Context, yes_no

STATUS_COLUMNS = [
    "backend",
    "kind",
    "health",
    "enabled",
    "weight",
    "partitions",
    "latency",
    "inbound",
    "invoices ok/failed",
]


def add_status_arguments(status: argparse.ArgumentParser) -> None:
    status.add_argument("--watch", action="store_true", help="refresh until interrupted")
    status.add_argument("--interval", type=_interval, default=2.0, metavar="SECONDS")
    status.add_argument("--iterations", type=int, default=0, help=argparse.SUPPRESS)
    status.set_defaults(run=show_status)


def _interval(text: str) -> float:
    """argparse type of ``--interval``: a finite number of seconds above zero."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return seconds


def add_reload_arguments(reload: argparse.ArgumentParser) -> None:
    reload.add_argument("--wait", action="store_true", help="wait for and print the outcome")
    reload.set_defaults(run=reload_config)


def show_status(args: argparse.Namespace, ctx: Context) -> int:
    if not args.watch:
        _print_status(ctx)
        return 0
    shown = 0
    try:
        while True:
            if ctx.out.is_terminal or shown:
                ctx.out.clear()
            _print_status(ctx)
            shown += 1
            if shown == args.iterations:
                return 0
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0


def _print_status(ctx: Context) -> None:
    status = ctx.get_json(protocol.STATUS, "status")
    if status is None:
        return
    rows = [status_row(b) for b in status["backends"]]
    ctx.out.table(STATUS_COLUMNS, rows, health_column=2)
    ctx.out.line(summary(status))
    if status.get("ldap") is not None:
        ctx.out.line(ldap_summary(status["ldap"]))


def status_row(b: dict[str, Any]) -> list[str]:
    latency = b.get("latencyMs")
    inbound = b.get("inboundCapacityMsat")
    invoices = b["invoices"]
    return [
        b.get("name") or b["publicKey"][:16],
        b["kind"],
        b["health"],
        yes_no(b["enabled"]),
        str(b["weight"]),
        ",".join(b["partitions"]) or "-",
        "-" if latency is None else f"{latency:.1f} ms",
        "-" if inbound is None else f"{inbound // 1000:,} sat",
        f"{invoices['created']}/{invoices['failed']}",
    ]


def summary(status: dict[str, Any]) -> str:
    """One line: backend health counts, partitions, uptime, version, store and last reload."""
    backends = status["backends"]
    counts = {h: sum(b["health"] == h for b in backends) for h in ("healthy", "unhealthy")}
    unknown = len(backends) - sum(counts.values())
    parts = [
        f"{len(backends)} backends: {counts['healthy']} healthy, "
        f"{counts['unhealthy']} unhealthy, {unknown} unknown",
        "partitions "
        + (
            ", ".join(f"{p} {'ok' if ok else 'DOWN'}" for p, ok in status["partitions"].items())
            or "none"
        ),
        f"up {_duration(status['uptimeSeconds'])}",
        f"switchgeard {status['version']}",
        f"store {status['store']}",
    ]
    last = status.get("lastReload")
    if last is not None:
        parts.append("last reload ok" if last["ok"] else f"last reload FAILED: {last['error']}")
    return "; ".join(parts)


def ldap_summary(ldap: dict[str, Any]) -> str:
    """One line on the LDAP sync: state, addresses, last sync and, while failing, the error."""
    mode = f" ({ldap['mode']})" if ldap.get("mode") else ""
    parts = [
        f"ldap {ldap['state']}{mode}",
        f"{ldap['addresses']} addresses",
        f"last sync {ldap.get('lastSyncedAt') or 'never'}",
    ]
    skipped = ldap.get("invalidCount", 0) + ldap.get("duplicateCount", 0)
    if skipped:
        parts.append(f"{skipped} entries skipped")
    if ldap["state"] in ("unavailable", "refused") and ldap.get("lastError"):
        parts.append(f"error: {ldap['lastError']}")
    return "; ".join(parts)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def reload_config(args: argparse.Namespace, ctx: Context) -> int:
    reply = ctx.call("POST", protocol.RELOAD, "reload", query={"wait": args.wait})
    body = reply.json()
    outcome = body.get("reload") if isinstance(body, dict) else None
    if outcome is None:
        return ctx.done(reply, "reload requested")
    changed = ", ".join(outcome.get("changed") or []) or "nothing"
    return ctx.done(reply, f"reloaded; changed: {changed}")
