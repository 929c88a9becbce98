"""The records of a raw CSV file as Arrow arrays, for the DuckDB reference of job 1.

The file is read once into numpy: its `\\n` positions give the physical lines, the line ends
(`\\n`, and the `\\r` of a CRLF or one ending the file) are cut out in one vectorized copy, and
the records are Arrow arrays over that buffer, with no copy per line. Python touches only the
rare records with a `"` (joined over line ends as instacart_lake.csv_records decides, and
split into fields) or with non-ASCII bytes (checked for valid UTF-8).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from instacart_lake.csv_records import FIRST_DATA_LINE, quoted_records

_LF, _CR, _QUOTE, _ASCII_END = 10, 13, 34, 128


@dataclass(frozen=True)
class Records:
    """The data records of one file. `table` has `line_number` (the record's first line),
    `text` (its bytes as UTF-8; invalid bytes replaced), `raw` (its exact bytes) and
    `valid_utf8`; `quoted` has the records with a `"`, with `fields` (their CSV fields,
    dequoted) and `unterminated` (an odd number of `"`)."""

    table: pa.Table
    quoted: pa.Table


def read_records(path: Path) -> Records:
    buf = np.fromfile(path, dtype=np.uint8)
    line_feeds = np.flatnonzero(buf == _LF)
    starts = np.r_[0, line_feeds + 1]
    ends = np.r_[line_feeds, buf.size]
    if buf.size == 0 or buf[-1] == _LF:  # no line after the last line feed
        starts, ends = starts[:-1], ends[:-1]
    has_lf = ends < buf.size
    has_cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == _CR)
    content_ends = ends - has_cr
    is_start, keeps_line_end = _joined_records(buf, starts)
    cut = ~keeps_line_end
    keep = np.ones(buf.size, dtype=bool)
    keep[ends[cut & has_lf]] = False
    keep[content_ends[cut & has_cr]] = False
    data = buf[keep]
    removed = np.where(cut, has_cr.astype(np.int64) + has_lf, 0)
    new_starts = starts - (np.cumsum(removed) - removed)
    first = np.flatnonzero(is_start)
    first = first[first >= FIRST_DATA_LINE - 1]  # the header is line 1
    offsets = np.r_[new_starts[first], data.size].astype(np.int64)
    raw = pa.LargeBinaryArray.from_buffers(pa.large_binary(), first.size,
                                           [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return _records(first + 1, raw, data, offsets)


def _joined_records(buf: np.ndarray, starts: np.ndarray):
    """Which lines start a record, and which lines keep their line end (the lines of a
    quoted record but its last)."""
    is_start = np.ones(starts.size, dtype=bool)
    keeps_line_end = np.zeros(starts.size, dtype=bool)
    quotes = np.flatnonzero(buf == _QUOTE)
    if quotes.size:
        per_line = np.bincount(np.searchsorted(starts, quotes, side="right") - 1, minlength=starts.size)
        odd_lines = (np.flatnonzero(per_line % 2 == 1) + 1).tolist()
        for record in quoted_records(odd_lines):
            if not record.unterminated:
                is_start[record.first_line: record.last_line] = False
                keeps_line_end[record.first_line - 1: record.last_line - 1] = True
    return is_start, keeps_line_end


def _records(line_numbers: np.ndarray, raw: pa.LargeBinaryArray, data: np.ndarray,
             offsets: np.ndarray) -> Records:
    def records_with(byte_mask: np.ndarray) -> np.ndarray:
        positions = np.flatnonzero(byte_mask)
        return np.unique(np.searchsorted(offsets, positions, side="right") - 1)

    valid = np.ones(len(raw), dtype=bool)
    text = raw
    non_ascii = records_with(data >= _ASCII_END)
    invalid = [i for i in non_ascii.tolist() if not _is_utf8(raw[i].as_py())]
    if invalid:
        valid[invalid] = False
        mask = pa.array(~valid)
        fixed = pa.array([raw[i].as_py().decode("utf-8", "replace").encode() for i in invalid], pa.large_binary())
        text = pc.replace_with_mask(raw, mask, fixed)
    text = text.view(pa.large_string())
    table = pa.table({"line_number": pa.array(line_numbers, pa.int64()), "text": text, "raw": raw,
                      "valid_utf8": pa.array(valid)})
    quoted = records_with(data == _QUOTE).tolist()
    quoted_text = [text[i].as_py() for i in quoted]
    return Records(table, pa.table({
        "line_number": pa.array(line_numbers[quoted], pa.int64()),
        "text": pa.array(quoted_text, pa.large_string()),
        "valid_utf8": pa.array(valid[quoted]),
        "fields": pa.array([csv_fields(record) for record in quoted_text], pa.list_(pa.large_string())),
        "unterminated": pa.array([record.count('"') % 2 == 1 for record in quoted_text], pa.bool_()),
    }))


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def csv_fields(record: str) -> list[str]:
    """The fields of a record with quotes: split at the commas outside quoted sections (each
    `"` toggles; a quote still open runs to the end), a field in quotes taken without them and
    with `""` read as `"`."""
    fields, current, in_quotes = [], [], False
    for char in record:
        if char == "," and not in_quotes:
            fields.append("".join(current))
            current = []
            continue
        in_quotes ^= char == '"'
        current.append(char)
    fields.append("".join(current))
    return [_unquoted(field) for field in fields]


def _unquoted(field: str) -> str:
    if len(field) >= 2 and field[0] == field[-1] == '"':
        return field[1:-1].replace('""', '"')
    return field
