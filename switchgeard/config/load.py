"""TOML text -> ``Config``, generic over the dataclasses in ``model.py``.

Every error is a ``ConfigError`` naming the dotted key path (``balancer.health.interval``,
``lnurl.listen[1]``) and the file; nothing here lets a traceback through for bad input.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, Field, dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from switchgeard.config.checks import FieldProblem
from switchgeard.config.model import Config, FileMode, Seconds
from switchgeard.errors import ConfigError

T = TypeVar("T")

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_FILE_MODE = re.compile(r"0?[0-7]{3}")


def load_config(path: Path | str) -> Config:
    """Read and parse the TOML file at ``path``; raise ConfigError if unreadable or invalid."""
    path = Path(path).absolute()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the config file: {exc.strerror}", file=path) from None
    return parse_config_bytes(data, path=path)


def parse_config_bytes(data: bytes, *, path: Path) -> Config:
    """Like ``parse_config`` for raw file content (must be UTF-8)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", file=path) from None
    return parse_config(text, path=path)


def parse_config(text: str, *, path: Path) -> Config:
    """Parse TOML ``text`` as the config file ``path``; raise ConfigError if invalid.

    Relative paths in the file are taken relative to the directory of ``path``.
    """
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=path) from None
    ctx = _Context(file=path, base_dir=path.absolute().parent)
    return _build(Config, table, "", ctx, injected={"path": path})


@dataclass(frozen=True, slots=True)
class _Context:
    file: Path
    base_dir: Path

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, key=key, file=self.file)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _build(
    cls: type[T],
    table: Mapping[str, Any],
    prefix: str,
    ctx: _Context,
    *,
    injected: Mapping[str, Any] | None = None,
) -> T:
    injected = injected or {}
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls) if f.init and f.name not in injected}  # type: ignore[arg-type]
    for name in table:
        if name not in known:
            raise ctx.error(_join(prefix, name), _unknown_key_message(name, known))
    kwargs: dict[str, Any] = dict(injected)
    for name, fld in known.items():
        key = _join(prefix, name)
        if name in table:
            kwargs[name] = _convert_field(hints[name], table[name], key, fld, ctx)
        elif _is_required(fld):
            kwargs[name] = _missing(hints[name], key, ctx)
    instance = cls(**kwargs)
    validate: Callable[[], None] | None = getattr(instance, "validate", None)
    if validate is not None:
        try:
            validate()
        except FieldProblem as problem:
            raise ctx.error(_join(prefix, problem.field), problem.message) from None
    return instance


def _unknown_key_message(name: str, known: Mapping[str, Field[Any]]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key{hint}"


def _is_required(fld: Field[Any]) -> bool:
    return fld.default is MISSING and fld.default_factory is MISSING


def _missing(tp: Any, key: str, ctx: _Context) -> Any:
    # A required sub-table is built from nothing, so the error names its first missing key.
    if isinstance(tp, type) and is_dataclass(tp):
        return _build(tp, {}, key, ctx)
    raise ctx.error(key, "required key is missing")


def _convert_field(tp: Any, value: Any, key: str, fld: Field[Any], ctx: _Context) -> Any:
    result = _convert(tp, value, key, ctx)
    meta = fld.metadata
    items = result if isinstance(result, tuple) else (result,)
    for index, item in enumerate(items):
        item_key = f"{key}[{index}]" if isinstance(result, tuple) else key
        _check_limits(item, item_key, meta, ctx)
    return result


def _check_limits(value: Any, key: str, meta: Mapping[str, Any], ctx: _Context) -> None:
    if "min" in meta and value < meta["min"]:
        raise ctx.error(key, f"must be at least {_show(meta['min'])}, got {_show(value)}")
    if "max" in meta and value > meta["max"]:
        raise ctx.error(key, f"must be at most {_show(meta['max'])}, got {_show(value)}")
    if "choices" in meta and value not in meta["choices"]:
        allowed = ", ".join(repr(c) for c in meta["choices"])
        raise ctx.error(key, f"must be one of {allowed}, got {value!r}")
    check: Callable[[Any], None] | None = meta.get("check")
    if check is not None:
        try:
            check(value)
        except ValueError as exc:
            raise ctx.error(key, str(exc)) from None


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else f"{value:g}"


def _convert(tp: Any, value: Any, key: str, ctx: _Context) -> Any:
    origin = typing.get_origin(tp)
    if origin is types.UnionType or origin is typing.Union:
        (inner,) = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        return _convert(inner, value, key, ctx)
    if origin is tuple:
        return _convert_tuple(tp, value, key, ctx)
    if isinstance(tp, type) and is_dataclass(tp):
        if not isinstance(value, dict):
            raise ctx.error(key, f"expected a table, got {_describe(value)}")
        return _build(tp, value, key, ctx)
    converter = _SCALARS.get(tp)
    if converter is None:
        raise TypeError(f"config model: unsupported field type {tp!r} at {key}")
    return converter(value, key, ctx)


def _convert_tuple(tp: Any, value: Any, key: str, ctx: _Context) -> tuple[Any, ...]:
    item_type, ellipsis = typing.get_args(tp)
    if ellipsis is not Ellipsis:
        raise TypeError(f"config model: only tuple[X, ...] is supported, at {key}")
    if not isinstance(value, list):
        raise ctx.error(key, f"expected an array, got {_describe(value)}")
    return tuple(_convert(item_type, item, f"{key}[{i}]", ctx) for i, item in enumerate(value))


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def _to_bool(value: Any, key: str, ctx: _Context) -> bool:
    if not isinstance(value, bool):
        raise ctx.error(key, f"expected true or false, got {_describe(value)}")
    return value


def _to_int(value: Any, key: str, ctx: _Context) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ctx.error(key, f"expected an integer, got {_describe(value)}")
    return value


def _to_float(value: Any, key: str, ctx: _Context) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ctx.error(key, f"expected a number, got {_describe(value)}")
    if not math.isfinite(value):
        raise ctx.error(key, "expected a finite number")
    return float(value)


def _to_str(value: Any, key: str, ctx: _Context) -> str:
    if not isinstance(value, str):
        raise ctx.error(key, f"expected a string, got {_describe(value)}")
    return value


def _to_path(value: Any, key: str, ctx: _Context) -> Path:
    text = _to_str(value, key, ctx)
    if not text or "\0" in text:
        raise ctx.error(key, "expected a file system path")
    path = Path(text)
    return path if path.is_absolute() else ctx.base_dir / path


def _to_seconds(value: Any, key: str, ctx: _Context) -> Seconds:
    if isinstance(value, str):
        match = _DURATION.fullmatch(value.strip())
        if match is None:
            raise ctx.error(
                key, f'expected a duration such as "500ms", "30s", "5m" or "1h", got {value!r}'
            )
        return Seconds(float(match[1]) * _DURATION_UNITS[match[2]])
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ctx.error(key, f'expected a duration such as "30s", got {_describe(value)}')
    seconds = _to_float(value, key, ctx)
    return Seconds(seconds)


def _to_file_mode(value: Any, key: str, ctx: _Context) -> FileMode:
    if not isinstance(value, str) or not _FILE_MODE.fullmatch(value):
        raise ctx.error(
            key, f'expected an octal mode as a string, e.g. "0660", got {_describe(value)}'
        )
    return FileMode(int(value, 8))


_SCALARS: dict[Any, Callable[[Any, str, _Context], Any]] = {
    bool: _to_bool,
    int: _to_int,
    float: _to_float,
    str: _to_str,
    Path: _to_path,
    Seconds: _to_seconds,
    FileMode: _to_file_mode,
}
