"""``switchgear-ctl [--socket PATH] [--json] NOUN VERB ...``: the entry point.

Exit status: 0 success, 1 the operation failed (one line on stderr naming what and why),
2 the command line is wrong. The socket is ``--socket``, else ``$SWITCHGEAR_SOCKET``, else
the packaged default ``/run/switchgeard/admin.sock``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from switchgeard import __version__
from switchgeard.admin import protocol
from switchgeard.ctl.addresses import add_address_verbs
from switchgeard.ctl.backends import add_backend_verbs
from switchgeard.ctl.configfile import add_config_verbs
from switchgeard.ctl.context import Context, UsageError
from switchgeard.ctl.daemon import add_reload_arguments, add_status_arguments
from switchgeard.ctl.failures import CtlError
from switchgeard.ctl.offers import add_metadata_verbs, add_offer_verbs
from switchgeard.ctl.render import Output

if TYPE_CHECKING:
    from rich.console import Console

JSON_HELP = (
    "print the API's JSON as is; a change the API answers without a body "
    "(update, remove, enable, disable, weight) prints nothing and exits 0"
)
EPILOG = f"""\
socket: --socket, else ${protocol.SOCKET_ENV}, else {protocol.DEFAULT_SOCKET}.
exit status: 0 ok, 1 the operation failed, 2 usage error."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``main`` returns the status."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


NOUNS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "backend": ("Lightning nodes (the /discovery resource)", add_backend_verbs),
    "offer": ("LNURL-pay offers", add_offer_verbs),
    "metadata": ("what wallets show for offers", add_metadata_verbs),
    "address": ("Lightning Addresses (LUD-16), user@domain", add_address_verbs),
    "status": ("backends, their health, and a summary", add_status_arguments),
    "reload": ("re-read the daemon's config file", add_reload_arguments),
    "config": ("write or check a config file", add_config_verbs),
}


def build_parser(noun: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``noun`` gets its verbs (all nouns when ``noun`` is ``None``).

    Building the verbs of one noun only keeps start-up fast; the top-level help needs none.
    """
    parser = _Parser(
        prog="switchgear-ctl",
        description="Administer a running switchgeard over its admin socket.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--socket", metavar="PATH", help="admin socket path")
    parser.add_argument("--json", action="store_true", help=JSON_HELP)
    parser.add_argument("--version", action="version", version=f"switchgear-ctl {__version__}")
    nouns = parser.add_subparsers(dest="noun", required=True, metavar="NOUN")
    for name, (summary, add_verbs) in NOUNS.items():
        sub = nouns.add_parser(name, help=summary, description=summary)
        if noun is None or noun == name:
            add_verbs(sub)
    return parser


def _noun_of(argv: Sequence[str]) -> str:
    """The first word that is not a global option (``""`` if there is none)."""
    words = iter(argv)
    for word in words:
        if word == "--socket":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return ""


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    console: Console | None = None,
) -> int:
    """Run one command and return the exit status (tests pass streams and a console)."""
    err = stderr if stderr is not None else sys.stderr
    env = os.environ if environ is None else environ
    try:
        words = sys.argv[1:] if argv is None else list(argv)
        args = build_parser(_noun_of(words)).parse_args(words)
    except UsageError as exc:
        print(str(exc), file=err)
        return 2
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    socket = args.socket or env.get(protocol.SOCKET_ENV) or protocol.DEFAULT_SOCKET
    out = Output(stdout, console=console)
    ctx = Context(socket=socket, out=out, json=args.json, stdin=stdin or sys.stdin)
    try:
        status: int = args.run(args, ctx)
    except UsageError as exc:
        print(f"switchgear-ctl: {exc}", file=err)
        return 2
    except CtlError as exc:
        print(f"switchgear-ctl: {exc}", file=err)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: no traceback, the shell's usual status
        print("switchgear-ctl: interrupted", file=err)
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
