"""Where a key of a TOML file is: tomllib gives values, not lines, so the lines of the
headers (`[personas.analyst]`, `[[grants]]`) and of the `key = value` lines are found in the
text. The policy's files use one-line values and inline tables, which this reads exactly."""

from __future__ import annotations

import re
from typing import Hashable

_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")
_DOTTED_PART = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*(?:\.|$)""")

Path = tuple[Hashable, ...]


def _unquote(key: str) -> str:
    return key[1:-1] if key[:1] in ('"', "'") else key


def _dotted(header: str) -> tuple[str, ...]:
    return tuple(_unquote(part) for part in _DOTTED_PART.findall(header))


class KeyLines:
    """The line of each table and key of a TOML text, by its path: `("grants", 2, "personas")`
    is the `personas` key of the third `[[grants]]` table."""

    def __init__(self, text: str):
        self._text = text.splitlines()
        self._lines: dict[Path, int] = {}
        entries: dict[tuple[str, ...], int] = {}
        current: Path = ()
        for number, line in enumerate(self._text, start=1):
            header = _HEADER.match(line)
            if header and not _KEY.match(line):
                parts = _dotted(header[2])
                if header[1] == "[[":
                    index = entries.get(parts, 0)
                    entries[parts] = index + 1
                    current = (*parts, index)
                else:
                    current = parts
                self._lines.setdefault(current, number)
                continue
            key = _KEY.match(line)
            if key:
                self._lines.setdefault((*current, _unquote(key[1])), number)

    def line(self, path: Path, value: str | None = None) -> int:
        """The line of `path`, or of its nearest enclosing key that is written out; with
        `value`, the line (from there to the next key) where that value is written in quotes."""
        start = next((self._lines[path[:end]] for end in range(len(path), 0, -1) if path[:end] in self._lines), 1)
        if value is None:
            return start
        following = min((number for number in self._lines.values() if number > start), default=len(self._text) + 1)
        quoted = (f'"{value}"', f"'{value}'")
        return next((number for number in range(start, following)
                     if any(text in self._text[number - 1] for text in quoted)), start)
