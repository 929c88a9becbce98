"""Classify the head of a file the way Glue's built-in CSV classifier does (pure: bytes in).

The rules, from the Glue developer guide ("Built-in CSV classifier") and what Glue crawlers
write into the catalog:
- delimiters tried: comma, pipe, tab, semicolon, Ctrl-A; a CSV file has at least two
  columns and the same number of fields on every record;
- values are trimmed before typing; an empty value is null and says nothing about the type;
  integers (`09` included) are bigint, decimals and exponents (`15.0`) double, true/false
  boolean, anything else string; a column widens bigint -> double -> string;
- the first row is a header when every cell is a string (non-empty, single line, under 150
  characters) and at least one column of the data rows is not string; otherwise the
  columns are named col0, col1, ...; header names are lower-cased like Glue's;
- a UTF-8 byte order mark is not part of the first column name; LF and CRLF both end records;
  quoted fields may hold delimiters, doubled quotes, line breaks and any Unicode.
A file whose only record is a string header is taken as header-only: names, no types.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from instacart_lake.errors import InputError

DELIMITERS = (",", "|", "\t", ";", "\x01")
QUOTE = '"'
MAX_HEADER_CELL_CHARS = 150
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_WIDER = {frozenset({"bigint", "double"}): "double"}


@dataclass(frozen=True)
class InferredColumn:
    name: str
    type: str | None
    """A Glue type, or None when the sample held no value for the column."""


@dataclass(frozen=True)
class FileSchema:
    """What the classifier learned from the sample of one file."""

    columns: tuple[InferredColumn, ...]
    delimiter: str
    has_header: bool
    quoted: bool
    header_bytes: int
    data_records: int
    data_bytes: int
    """Records after the header in the sample, and the bytes they take."""


def value_type(text: str) -> str | None:
    """The Glue type of one CSV value, or None for an empty value."""
    value = text.strip()
    if not value:
        return None
    if _INTEGER.fullmatch(value) and -(2 ** 63) <= int(value) < 2 ** 63:
        return "bigint"
    if _DECIMAL.fullmatch(value):
        return "double"
    if value.lower() in ("true", "false"):
        return "boolean"
    return "string"


def widen(current: str | None, new: str | None) -> str | None:
    """The type of a column holding values of both types (None: no value seen)."""
    if current is None or current == new:
        return new if current is None else current
    if new is None:
        return current
    return _WIDER.get(frozenset({current, new}), "string")


def _decode(sample: bytes, path: str) -> str:
    if not sample:
        raise InputError("empty file, not CSV", path, 1)
    if b"\x00" in sample:
        raise InputError("binary content (NUL bytes), not CSV text", path)
    try:
        return sample.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text (undecodable byte at offset {error.start}), not CSV", path) from None


def _records(text: str, delimiter: str, is_whole_file: bool) -> tuple[list[list[str]], tuple[int, str] | None]:
    """The non-empty records of `text`, and the first parse error (line, message) if any.

    A sample cut from a longer file at a line break may still end inside a quoted field that
    holds a line break: that unfinished record is left out."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=QUOTE,
                        doublequote=True, strict=True)
    records: list[list[str]] = []
    try:
        for record in reader:
            if record:
                records.append(record)
    except csv.Error as error:
        if is_whole_file or "unexpected end of data" not in str(error):
            return records, (reader.line_num, str(error))
    return records, None


def _first_inconsistent_line(text: str, delimiter: str, expected: int) -> tuple[int, int]:
    """The line number and field count of the first record whose field count is not `expected`."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=QUOTE, strict=True)
    for record in reader:
        if record and len(record) != expected:
            return reader.line_num, len(record)
    return reader.line_num, expected


def _split(text: str, is_whole_file: bool, path: str) -> tuple[str, list[list[str]]]:
    """The delimiter and the records: the first delimiter that gives at least two columns and
    the same number of fields on every record. InputError naming the line otherwise."""
    attempts = {}
    for delimiter in DELIMITERS:
        records, error = _records(text, delimiter, is_whole_file)
        if error is None and records and len(records[0]) >= 2 and all(len(r) == len(records[0]) for r in records):
            return delimiter, records
        attempts[delimiter] = (records, error)
    if not any(records for records, _ in attempts.values()):
        raise InputError("no records, not CSV", path, 1)
    widest = max(DELIMITERS, key=lambda d: len(attempts[d][0][0]) if attempts[d][0] else 0)
    records, error = attempts[widest]
    if error is not None:
        line, message = error
        raise InputError(f"not CSV: {message}", path, line)
    if len(records[0]) < 2:
        raise InputError("a single column (no comma, pipe, tab, semicolon or Ctrl-A delimiter), not CSV", path, 1)
    line, found = _first_inconsistent_line(text, widest, len(records[0]))
    raise InputError(f"not CSV: {found} fields where the first record has {len(records[0])} "
                     f"(delimiter {widest!r})", path, line)


def _is_header_cell(cell: str) -> bool:
    name = cell.strip()
    return (bool(name) and value_type(name) == "string" and len(name) < MAX_HEADER_CELL_CHARS
            and all(ch == "\t" or ord(ch) >= 0x20 for ch in name))


def _column_types(records: list[list[str]], width: int) -> list[str | None]:
    types: list[str | None] = [None] * width
    for record in records:
        for index, value in enumerate(record):
            types[index] = widen(types[index], value_type(value))
    return types


def _header_names(header: list[str], path: str) -> list[str]:
    names = [cell.strip().lower() for cell in header]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InputError(f"header names {', '.join(duplicates)} more than once", path, 1)
    return names


def infer_file_schema(sample: bytes, is_whole_file: bool, path: str) -> FileSchema:
    """The schema of a CSV file from its first bytes (all of them when `is_whole_file`).

    A sample of part of a file should end at a line break. Raises InputError (with the path
    and, where it applies, the line) when the content is not CSV text."""
    text = _decode(sample, path)
    delimiter, records = _split(text, is_whole_file, path)
    width = len(records[0])
    first_is_header = all(_is_header_cell(cell) for cell in records[0])
    data_types = _column_types(records[1:], width)
    header_only = len(records) == 1 and first_is_header
    has_header = header_only or (first_is_header and any(t not in (None, "string") for t in data_types))
    if has_header:
        names = _header_names(records[0], path)
        types = data_types
    else:
        names = [f"col{index}" for index in range(width)]
        types = _column_types(records, width)
    header_bytes = len(text.split("\n", 1)[0].encode("utf-8")) + 1 if has_header else 0
    used_bytes = len(text.encode("utf-8"))
    data_records = len(records) - (1 if has_header else 0)
    quoted = re.search(rf"(?:^|{re.escape(delimiter)}){QUOTE}", text, re.MULTILINE) is not None
    return FileSchema(
        columns=tuple(InferredColumn(name, column_type) for name, column_type in zip(names, types)),
        delimiter=delimiter,
        has_header=has_header,
        quoted=quoted,
        header_bytes=header_bytes,
        data_records=data_records,
        data_bytes=used_bytes - header_bytes if data_records else 0,
    )
