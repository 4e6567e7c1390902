"""``switchgeard``: the daemon's command line.

    switchgeard run --config FILE     run the daemon (systemd: Type=notify)
    switchgeard check-config FILE     validate a config file; exit 0 if valid, 1 if not
    switchgeard demo                  run everything locally with fake nodes
    switchgeard --version

Exit status of ``run``: 0 after a signal-initiated stop, 78 (EX_CONFIG) for an invalid
config (the systemd unit does not restart on it), 1 when a listener cannot be bound,
130 when interrupted before the signal handlers were installed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from switchgeard import __version__
from switchgeard.config import Config, check_secret_files, load_config
from switchgeard.daemon.demo import add_demo_arguments, run_demo
from switchgeard.daemon.logs import setup_logging
from switchgeard.daemon.process import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, run_config
from switchgeard.errors import ConfigError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``switchgeard`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "run":
        return _run(args.config)
    if args.command == "check-config":
        return _check_config(args.file)
    if args.command == "demo":
        return run_demo(args)
    _parser().print_usage(sys.stderr)
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchgeard",
        description="LNURL-pay front end balancing invoices over Lightning nodes.",
    )
    parser.add_argument("--version", action="version", version=f"switchgeard {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("run", help="run the daemon")
    run.add_argument("--config", "-c", type=Path, required=True, metavar="FILE")
    check = commands.add_parser("check-config", help="validate a config file")
    check.add_argument("file", type=Path, metavar="FILE")
    demo_parser = commands.add_parser("demo", help="run a local demo with fake nodes")
    add_demo_arguments(demo_parser)
    return parser


def _load(path: Path) -> Config:
    config = load_config(path)
    check_secret_files(config)
    return config


def _check_config(path: Path) -> int:
    try:
        _load(path)
    except ConfigError as exc:
        print(f"switchgeard: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"{path}: ok")
    return EXIT_OK


def _run(path: Path) -> int:
    try:
        config = _load(path)
    except ConfigError as exc:
        print(f"switchgeard: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(config.logging.level)
    return run_config(config)
