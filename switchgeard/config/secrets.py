"""Reading the files named by ``*_file`` keys (secrets, certificates, macaroons).

Secrets are never written inline in the config; components read them when they open, through
``read_secret_file``, so that a missing or unreadable file is a ``ConfigError`` naming the key
and the path rather than a bare ``OSError``. ``check_secret_files`` reads every ``*_file`` key
of a whole ``Config`` up front (``switchgeard check-config``, startup and reload).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import trio

from switchgeard.errors import ConfigError


def read_secret_file(path: Path, key: str) -> bytes:
    """Return the content of ``path``, named by config key ``key``.

    Raises ConfigError naming the key and the path when the file is missing, unreadable,
    a directory, or empty. Blocking: from trio, call ``load_secret_file`` instead.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"file {path} does not exist", key=key) from None
    except PermissionError:
        raise ConfigError(f"file {path} is not readable by this user", key=key) from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a directory, expected a file", key=key) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", key=key) from None
    if not data:
        raise ConfigError(f"file {path} is empty", key=key)
    return data


async def load_secret_file(path: Path, key: str) -> bytes:
    """``read_secret_file`` in a worker thread, for use from trio tasks."""
    return await trio.to_thread.run_sync(read_secret_file, path, key)


def check_secret_files(config: Any) -> None:
    """Read every ``*_file`` path set in ``config`` (a config dataclass); raise ConfigError.

    The error also names the config file when ``config`` has a ``path`` attribute.
    """
    origin = getattr(config, "path", None)
    for key, path in _secret_paths(config, ""):
        try:
            read_secret_file(path, key)
        except ConfigError as exc:
            raise ConfigError(exc.reason, key=exc.key, file=origin) from None


def _secret_paths(obj: Any, prefix: str) -> Iterator[tuple[str, Path]]:
    for fld in fields(obj):
        value = getattr(obj, fld.name)
        key = f"{prefix}.{fld.name}" if prefix else fld.name
        if is_dataclass(value):
            yield from _secret_paths(value, key)
        elif fld.name.endswith("_file") and isinstance(value, Path):
            yield key, value
