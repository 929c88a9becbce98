"""What a query returns, whichever engine ran it: columns with their Trino type names, and
rows of Python values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]
    engine: str

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.column_names, row)) for row in self.rows]
