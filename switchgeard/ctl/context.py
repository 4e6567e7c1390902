"""What every ctl command gets: the client, the output and the global options."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeAlias

from switchgeard.ctl.failures import CtlError, UsageError
from switchgeard.ctl.render import Output

if TYPE_CHECKING:
    from switchgeard.ctl.client import AdminClient, Reply

__all__ = ["Context", "CtlError", "UsageError", "read_json_file"]

SubParsers: TypeAlias = "argparse._SubParsersAction[Any]"
"""What ``add_subparsers`` returns; commands register their parsers on it."""


@dataclass
class Context:
    """Shared state of one ctl run."""

    socket: str
    out: Output
    json: bool = False
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    _client: AdminClient | None = None

    @property
    def client(self) -> AdminClient:
        if self._client is None:
            # Imported here: --help and config commands need no HTTP machinery.
            from switchgeard.ctl.client import AdminClient

            self._client = AdminClient(self.socket)
        return self._client

    def call(
        self,
        method: str,
        target: str,
        what: str,
        *,
        body: object = None,
        query: dict[str, object] | None = None,
    ) -> Reply:
        return self.client.call(method, target, what, body=body, query=query)

    def get_json(self, target: str, what: str, query: dict[str, object] | None = None) -> Any:
        """GET ``target``; with ``--json`` the body is printed as is and ``None`` returned."""
        reply = self.call("GET", target, what, query=query)
        if self.json:
            self.out.raw(reply.body.decode())
            return None
        return reply.json()

    def put(self, target: str, what: str, body: object) -> int:
        """PUT ``body`` to ``target`` and report whether ``what`` was created or updated."""
        reply = self.call("PUT", target, f"update {what}", body=body)
        return self.done(reply, f"{'created' if reply.status == 201 else 'updated'} {what}")

    def remove(self, target: str, what: str) -> int:
        """DELETE ``target`` and report that ``what`` was removed."""
        return self.done(self.call("DELETE", target, f"remove {what}"), f"removed {what}")

    def done(self, reply: Reply, message: str) -> int:
        """Report a successful mutation: the API's JSON with ``--json``, else ``message``.

        An answer without a body (204) prints nothing with ``--json``: there is no JSON to
        print, and the exit status 0 already says that the change was made.
        """
        if self.json:
            if reply.body:
                self.out.raw(reply.body.decode())
        else:
            self.out.line(message)
        return 0


def read_json_file(path: str, stdin: TextIO) -> dict[str, Any]:
    """A JSON object from ``path`` (``-`` reads stdin); ``CtlError`` names the file and why."""
    name = "stdin" if path == "-" else path
    try:
        text = stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CtlError(f"cannot read {name}: {exc.strerror or exc}") from exc
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CtlError(f"{name} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise CtlError(f"{name} must hold a JSON object")
    return value


def non_negative(text: str) -> int:
    """argparse type: an integer >= 0."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a non-negative integer: {text!r}")
    return int(text)


def yes_no(value: object) -> str:
    return "yes" if value else "no"


def dash(value: object) -> str:
    return "-" if value is None or value == "" else str(value)
