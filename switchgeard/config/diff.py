"""Comparing two configs key by key, and keeping restart-only keys at their running values."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import Any, TypeVar

T = TypeVar("T")


def changed_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted key paths whose values differ between two config dataclasses of the same type.

    Sub-tables are compared key by key; a tuple (array) is reported as one key.
    """
    keys: list[str] = []
    for fld in fields(old):
        before, after = getattr(old, fld.name), getattr(new, fld.name)
        key = f"{prefix}.{fld.name}" if prefix else fld.name
        if before == after:
            continue
        if is_dataclass(before) and is_dataclass(after) and type(before) is type(after):
            keys.extend(changed_keys(before, after, key))
        else:
            keys.append(key)
    return keys


def keep_restart_values(new: T, running: T) -> T:
    """``new`` with every key marked ``restart`` in the model set back to ``running``'s value.

    The result is what a live reload can apply: restart-only keys wait for a restart.
    """
    kept: dict[str, Any] = {}
    for fld in fields(new):  # type: ignore[arg-type]
        after, before = getattr(new, fld.name), getattr(running, fld.name)
        if after == before:
            continue
        if fld.metadata.get("restart"):
            kept[fld.name] = before
        elif is_dataclass(after) and type(after) is type(before):
            merged = keep_restart_values(after, before)
            if merged is not after:
                kept[fld.name] = merged
    return replace(new, **kept) if kept else new  # type: ignore[type-var]
