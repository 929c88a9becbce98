"""Write CSV files fast, formatted like the real Instacart files, with optional line edits.

Big tables are Arrow tables whose values need no quoting (numbers and plain words, already
formatted: zero-padded hours, `15.0` days), written by pyarrow's CSV writer. Small text tables
are quoted as the real files are: a value is quoted when it holds a comma, a quote or a
non-ASCII letter. An edit replaces one row's line by other lines (a damaged copy, the row and
its duplicate, a truncated line at the end of the file); the writer reports the line number of
every damaged line it wrote.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, Sequence

import pyarrow as pa
from pyarrow import csv as pa_csv

_ARROW_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="none")


class RowSource(Protocol):
    row_count: int

    def write_rows(self, handle: BinaryIO, start: int, stop: int) -> None:
        """Write rows [start, stop) as CSV lines."""

    def row_fields(self, index: int) -> list[bytes]:
        """The formatted fields of one row, exactly as `write_rows` writes them."""


class ArrowRows:
    """The rows of an Arrow table whose values need no quoting."""

    def __init__(self, table: pa.Table):
        self.table = table
        self.row_count = table.num_rows

    def write_rows(self, handle: BinaryIO, start: int, stop: int) -> None:
        if stop > start:
            pa_csv.write_csv(self.table.slice(start, stop - start), handle, _ARROW_OPTIONS)

    def row_fields(self, index: int) -> list[bytes]:
        buffer = io.BytesIO()
        self.write_rows(buffer, index, index + 1)
        return buffer.getvalue().rstrip(b"\n").split(b",")


class TextRows:
    """Rows of text values, quoted as the real files quote them."""

    def __init__(self, rows: Sequence[Sequence[str]]):
        self.rows = rows
        self.row_count = len(rows)

    def write_rows(self, handle: BinaryIO, start: int, stop: int) -> None:
        handle.write(b"".join(b",".join(self.row_fields(i)) + b"\n" for i in range(start, stop)))

    def row_fields(self, index: int) -> list[bytes]:
        return [quote_field(value) for value in self.rows[index]]


def quote_field(value: str) -> bytes:
    if value.isascii() and not any(mark in value for mark in ',"\r\n'):
        return value.encode("ascii")
    return ('"' + value.replace('"', '""') + '"').encode("utf-8")


@dataclass(frozen=True)
class LineEdit:
    """Replace the line of `row` by `lines`; `lines[damaged]` is the damaged one. When
    `ends_file`, the edit is the last row and its last line has no line end."""

    row: int
    lines: tuple[bytes, ...]
    damaged: int
    kind: str
    column: str = ""
    ends_file: bool = False


@dataclass(frozen=True)
class DamagedLine:
    line: int
    """1-based line number in the file; the header is line 1."""
    kind: str
    column: str


def write_csv(path: Path, columns: Sequence[str], rows: RowSource,
              edits: Sequence[LineEdit] = ()) -> list[DamagedLine]:
    """Write a header and the rows, applying `edits` (sorted by row); return the damaged lines."""
    ordered = all(a.row < b.row for a, b in zip(edits, edits[1:]))
    ending = [edit for edit in edits if edit.ends_file]
    if not ordered or any(edit.row != rows.row_count - 1 for edit in ending):
        raise ValueError("edits must be sorted by row, one per row; only the last row may end the file")
    damaged: list[DamagedLine] = []
    inserted = 0
    next_row = 0
    with path.open("wb") as handle:
        handle.write(",".join(columns).encode("ascii") + b"\n")
        for edit in edits:
            rows.write_rows(handle, next_row, edit.row)
            handle.write(b"\n".join(edit.lines) + (b"" if edit.ends_file else b"\n"))
            line_number = edit.row + 2 + inserted + edit.damaged
            damaged.append(DamagedLine(line_number, edit.kind, edit.column))
            inserted += len(edit.lines) - 1
            next_row = edit.row + 1
        rows.write_rows(handle, next_row, rows.row_count)
    return damaged
