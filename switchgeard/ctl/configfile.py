"""``switchgear-ctl config init|check``: write a starter config, or validate one."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

from switchgeard.ctl.context import Context
from switchgeard.ctl.failures import CtlError

HEADER = """\
# switchgeard configuration (starter). Every key, with comments, is in
# config/switchgeard.example.toml; check this file with `switchgear-ctl config check PATH`.
"""

STARTER: list[tuple[str, str, dict[str, Any]]] = [
    (
        "store",
        "Required. sqlite:///absolute/path.db, or postgresql://user@host/db for several instances.",
        {"url": "sqlite:///var/lib/switchgeard/switchgeard.db"},
    ),
    (
        "lnurl",
        "The public LNURL-pay service. The first allowed_hosts name without a '*' is the"
        " public host of printed LNURLs; '*.example.com' allows one label under example.com.",
        {"listen": ["127.0.0.1:8080"], "partitions": ["default"], "allowed_hosts": []},
    ),
    (
        "admin",
        "The admin socket for switchgear-ctl; whoever can open it is an admin.",
        {"socket": "/run/switchgeard/admin.sock", "socket_mode": "0660"},
    ),
    (
        "balancer",
        'How a backend is chosen: "round-robin", "random" or "consistent".',
        {"strategy": "round-robin"},
    ),
    ("logging", 'One of "debug", "info", "warning", "error".', {"level": "info"}),
]


def add_config_verbs(noun: argparse.ArgumentParser) -> None:
    """The verbs of ``config``: write or check a config file."""
    verbs = noun.add_subparsers(dest="verb", required=True, metavar="VERB")
    init = verbs.add_parser("init", help="write a commented starter config")
    init.add_argument("path", nargs="?", default="switchgeard.toml", metavar="PATH")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(run=init_config, needs_socket=False)
    check = verbs.add_parser("check", help="validate a config file (as the daemon would)")
    check.add_argument("path", metavar="PATH")
    check.set_defaults(run=check_config, needs_socket=False)


def starter_config() -> str:
    """The starter file: each section dumped by tomli-w, preceded by its comment."""
    import tomli_w

    sections = [
        f"# {comment}\n{tomli_w.dumps({name: values})}" for name, comment, values in STARTER
    ]
    return HEADER + "\n" + "\n".join(sections)


def init_config(args: argparse.Namespace, ctx: Context) -> int:
    text = starter_config()
    if args.path == "-":
        ctx.out.raw(text)
        return 0
    path = Path(args.path)
    try:
        with path.open("w" if args.force else "x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError as exc:
        raise CtlError(f"config init: {path} exists already (use --force)") from exc
    except OSError as exc:
        raise CtlError(f"config init: cannot write {path}: {exc.strerror or exc}") from exc
    ctx.out.line(f"wrote {path}")
    return 0


def check_config(args: argparse.Namespace, ctx: Context) -> int:
    """Run the daemon's own parser in a subprocess, keeping ctl's imports light."""
    command = [sys.executable, "-m", "switchgeard", "check-config", args.path]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.stdout:
        ctx.out.raw(result.stdout)
    if result.returncode != 0:
        reason = result.stderr.strip().splitlines()
        raise CtlError(reason[-1] if reason else f"config check: {args.path} is not valid")
    return 0
