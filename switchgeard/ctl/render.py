"""Human output: rich tables on a terminal, plain fixed-width text otherwise.

This is the only module that imports rich, and only when it is needed: when stdout is a
terminal, or when a caller (a test) hands in its own ``rich.console.Console``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

HEALTH_STYLES = {"healthy": "green", "unhealthy": "bold red", "unknown": "yellow"}


class Output:
    """Where a command prints. ``console`` forces rich; otherwise rich is used on a TTY."""

    def __init__(self, stream: TextIO | None = None, *, console: Console | None = None) -> None:
        chosen: IO[str] = stream if stream is not None else sys.stdout
        if stream is None and console is not None:
            chosen = console.file
        self.stream = chosen
        self._console = console
        if console is None and self.stream.isatty():
            from rich.console import Console

            self._console = Console(file=self.stream, highlight=False)

    @property
    def is_terminal(self) -> bool:
        return self._console is not None

    def line(self, text: str = "") -> None:
        print(text, file=self.stream)

    def clear(self) -> None:
        """Start a fresh screen (``status --watch``); a separator line off a terminal."""
        if self._console is not None:
            self._console.clear()
        else:
            self.line("")

    def raw(self, text: str) -> None:
        """Print ``text`` unchanged (``--json``); a trailing newline is added if missing."""
        self.stream.write(text if text.endswith("\n") else text + "\n")

    def fields(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Aligned ``label: value`` lines."""
        width = max((len(label) for label, _ in pairs), default=0) + 1
        for label, value in pairs:
            self.line(f"{label + ':':<{width}} {value}".rstrip())

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        health_column: int | None = None,
    ) -> None:
        """A table; on a terminal the ``health_column`` is coloured by its value."""
        if self._console is None:
            for line in plain_table(columns, rows):
                self.line(line)
            return
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, header_style="bold", pad_edge=False)
        for name in columns:
            table.add_column(name.upper(), no_wrap=True, overflow="fold")
        for row in rows:
            cells = [Text(cell) for cell in row]
            if health_column is not None:
                cells[health_column].stylize(HEALTH_STYLES.get(row[health_column], ""))
            table.add_row(*cells)
        self._console.print(table)


def plain_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Fixed-width lines: upper-case headers, columns two spaces apart, no trailing blanks."""
    header = [c.upper() for c in columns]
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = []
    for cells in (header, *rows):
        padded = [f"{cell:<{width}}" for cell, width in zip(cells, widths, strict=True)]
        lines.append("  ".join(padded).rstrip())
    return lines
