"""ctl start-up stays light: no server stack, no rich off a terminal, no HTTP for --help."""

from __future__ import annotations

import json
import subprocess
import sys

from switchgeard.ctl.main import NOUNS, build_parser

HEAVY = ["trio", "quart", "hypercorn", "httpx", "rich", "grpclib", "sqlite3", "http"]

PROBE = """
import contextlib, io, json, sys
from switchgeard.ctl.main import main
with contextlib.redirect_stdout(io.StringIO()):
    main(sys.argv[1:], stdout=io.StringIO(), stderr=io.StringIO())
loaded = {m.split(".")[0] for m in sys.modules}
print(json.dumps(sorted(loaded & set(json.loads(sys.stdin.read())))))
"""


def _loaded_after(*argv: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        input=json.dumps(HEAVY),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return list(json.loads(result.stdout))


def test_help_and_config_init_load_nothing_heavy() -> None:
    assert _loaded_after("--help") == []
    assert _loaded_after("config", "init", "-") == []


def test_a_remote_command_loads_only_http_client() -> None:
    assert _loaded_after("--socket", "/nonexistent/admin.sock", "status") == ["http"]


def test_every_noun_builds_its_verbs() -> None:
    parser = build_parser()
    for argv in (["backend", "list"], ["offer", "list"], ["metadata", "list"], ["status"],
                 ["address", "list"], ["reload"], ["config", "check", "x"]):  # fmt: skip
        assert parser.parse_args(argv).noun == argv[0]
    assert set(NOUNS) == {"backend", "offer", "metadata", "address", "status", "reload", "config"}
