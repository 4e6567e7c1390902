"""Registering the secrets the daemon reads with the log redactor.

Patterns catch the usual shapes of secrets; exact values are safer. Whatever credential
file the daemon reads (TLS and client keys, LDAP bind password, node macaroons) is read
once more here, in a worker thread, and every form it could be logged in is registered:
the text, hex for binary files, and each line of a PEM body. Certificates are public and
not registered. An unreadable file is skipped: the component that needs it reports that.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import trio

from switchgeard.config import Config
from switchgeard.store.records import Backend, LndGrpc
from switchgeard.telemetry.redact import Redactor

_MIN_PEM_LINE = 16


def secret_forms(data: bytes) -> list[str]:
    """The strings a secret file's content might appear as in a log line."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return [data.hex(), data.hex().upper()]
    forms = [text.strip()]
    if "-----BEGIN" in text:
        forms += [
            line.strip()
            for line in text.splitlines()
            if len(line.strip()) >= _MIN_PEM_LINE and not line.startswith("-----")
        ]
    elif all(c in "0123456789abcdefABCDEF" for c in text.strip()):
        forms += [text.strip().lower(), text.strip().upper()]
    return forms


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


async def register_files(redactor: Redactor, paths: list[Path]) -> None:
    """Read ``paths`` in a worker thread and register every form of their content."""
    for path in paths:
        data = await trio.to_thread.run_sync(_read, path)
        if data:
            for form in secret_forms(data):
                redactor.add_secret(form)


def _config_paths(obj: Any) -> Iterator[Path]:
    for fld in dataclasses.fields(obj):
        value = getattr(obj, fld.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            yield from _config_paths(value)
        elif fld.name.endswith("_file") and "cert" not in fld.name and isinstance(value, Path):
            yield value


def config_secret_paths(config: Config) -> list[Path]:
    """Every ``*_file`` of ``config`` that holds a secret (keys, passwords; not certificates)."""
    return list(_config_paths(config))


def backend_secret_paths(record: Backend) -> list[Path]:
    """The credential files of a backend record: the macaroon or the client key."""
    implementation = record.implementation
    if isinstance(implementation, LndGrpc):
        return [Path(implementation.macaroon_path)]
    return [Path(implementation.client_key_path)]
