"""Known damage for testing the readers and the quarantine: a fraction of the rows of each
file is damaged in one of the ways real files go wrong, and every damaged line is listed in a
manifest (file, line, kind, column).

Damage is applied to the formatted lines after the clean data is made, from its own random
stream, so every line not in the manifest is exactly the line of the clean files. The damage
has knock-on effects that are not listed: lines of an order whose orders row was damaged no
longer find their order.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from instacart_lake.generate.csv_files import DamagedLine, LineEdit, RowSource
from instacart_lake.schemas import SOURCE_TABLES

MANIFEST_FILE = "defects.csv"
MANIFEST_COLUMNS = ("file", "line", "kind", "column")

WRONG_COLUMN_COUNT = "wrong_column_count"
UNPARSABLE_NUMBER = "unparsable_number"
OUT_OF_RANGE = "out_of_range"
EMPTY_KEY = "empty_key"
DUPLICATE_ROW = "duplicate_row"
UNKNOWN_ID = "unknown_id"
BROKEN_UTF8 = "broken_utf8"
TRUNCATED_LAST_LINE = "truncated_last_line"
INVALID_EVAL_SET = "invalid_eval_set"
DAYS_ON_FIRST_ORDER = "days_on_first_order"

_COMMON = (WRONG_COLUMN_COUNT, UNPARSABLE_NUMBER, EMPTY_KEY, DUPLICATE_ROW, TRUNCATED_LAST_LINE)
KINDS_BY_FILE: dict[str, tuple[str, ...]] = {
    "aisles": _COMMON + (BROKEN_UTF8,),
    "departments": _COMMON + (BROKEN_UTF8,),
    "products": _COMMON + (BROKEN_UTF8, UNKNOWN_ID),
    "orders": _COMMON + (OUT_OF_RANGE, INVALID_EVAL_SET, DAYS_ON_FIRST_ORDER),
    "order_products__prior": _COMMON + (OUT_OF_RANGE, UNKNOWN_ID),
    "order_products__train": _COMMON + (OUT_OF_RANGE, UNKNOWN_ID),
}

_UNPARSABLE = (b"12a", b"one", b"1..2", b"#", b"x7", b"--5", b"7-", b"?")
_OUT_OF_RANGE: dict[str, dict[str, tuple[bytes, ...]]] = {
    "orders": {"order_number": (b"0", b"101"), "order_dow": (b"7", b"-1"),
               "order_hour_of_day": (b"24", b"-1"), "days_since_prior_order": (b"31.0", b"-1.0")},
    "order_products__prior": {"add_to_cart_order": (b"0", b"-1"), "reordered": (b"2", b"-1")},
    "order_products__train": {"add_to_cart_order": (b"0", b"-1"), "reordered": (b"2", b"-1")},
}
_BAD_EVAL_SETS = (b"Prior", b"TRAIN", b"validation", b"tset", b"priors", b"eval")
_INVALID_UTF8 = (b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf")
_TEXT_COLUMNS = {"aisles": ("aisle",), "departments": ("department",), "products": ("product_name",)}
_REFERENCE_COLUMNS = {"products": ("aisle_id", "department_id"),
                      "order_products__prior": ("order_id", "product_id"),
                      "order_products__train": ("order_id", "product_id")}


def plan_defects(rng: np.random.Generator, table: str, rows: RowSource, rate: float,
                 id_limits: Mapping[str, int], first_order_rows: np.ndarray | None = None,
                 ) -> list[LineEdit]:
    """Edits damaging round(rate x rows) rows of `table`, sorted by row. Kinds take turns, so
    each appears once there are enough damaged rows; a file has at most one truncated last
    line. `id_limits` gives the largest existing id by column (order_id, product_id, aisle_id,
    department_id); `first_order_rows` the rows of orders.csv that are first orders."""
    damaged_count = round(rate * rows.row_count)
    slots: list[str] = []
    turns = itertools.cycle(str(kind) for kind in rng.permutation(KINDS_BY_FILE[table]))
    while len(slots) < damaged_count:
        kind = next(turns)
        if kind != TRUNCATED_LAST_LINE or kind not in slots:
            slots.append(kind)
    columns = SOURCE_TABLES[table].column_names
    is_first_order = np.zeros(rows.row_count, dtype=bool)
    if first_order_rows is not None:
        is_first_order[first_order_rows] = True
    edits = [
        _damage(rng, table, columns, rows.row_fields(row), row, kind, id_limits,
                bool(is_first_order[row]))
        for kind, chosen in _choose_rows(rng, rows.row_count, slots, first_order_rows).items()
        for row in chosen.tolist()
    ]
    return sorted(edits, key=lambda edit: edit.row)


def write_manifest(path: Path, damaged: Mapping[str, Sequence[DamagedLine]]) -> None:
    """The manifest: one row per damaged line, by file name then line."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        for file_name in sorted(damaged):
            for line in sorted(damaged[file_name], key=lambda d: d.line):
                writer.writerow((file_name, line.line, line.kind, line.column))


def _choose_rows(rng: np.random.Generator, row_count: int, slots: list[str],
                 first_order_rows: np.ndarray | None) -> dict[str, np.ndarray]:
    """Distinct rows for the slots: the last row for a truncated line, first orders for days on
    a first order, any other row for the rest."""
    chosen: dict[str, np.ndarray] = {}
    taken = np.empty(0, dtype=np.int64)
    if TRUNCATED_LAST_LINE in slots:
        taken = np.array([row_count - 1])
        chosen[TRUNCATED_LAST_LINE] = taken
    wanted = slots.count(DAYS_ON_FIRST_ORDER)
    if wanted:
        eligible = np.setdiff1d(first_order_rows, taken)
        picked = rng.choice(eligible, size=min(wanted, len(eligible)), replace=False)
        chosen[DAYS_ON_FIRST_ORDER] = picked
        taken = np.concatenate([taken, picked])
    placed = (TRUNCATED_LAST_LINE, DAYS_ON_FIRST_ORDER)
    other_kinds = np.array([kind for kind in slots if kind not in placed])
    picked = rng.choice(row_count, size=min(row_count, len(other_kinds) + len(taken)), replace=False)
    picked = picked[~np.isin(picked, taken)][:len(other_kinds)]
    for kind in dict.fromkeys(other_kinds.tolist()):
        chosen[kind] = picked[other_kinds[:len(picked)] == kind]
    return chosen


def _damage(rng: np.random.Generator, table: str, columns: tuple[str, ...], fields: list[bytes],
            row: int, kind: str, id_limits: Mapping[str, int], is_first_order: bool) -> LineEdit:
    line = b",".join(fields)

    def replaced(column: str, value: bytes) -> LineEdit:
        changed = list(fields)
        changed[columns.index(column)] = value
        return LineEdit(row, (b",".join(changed),), 0, kind, column)

    def pick(options: Sequence):
        return options[int(rng.integers(len(options)))]

    if kind == WRONG_COLUMN_COUNT:
        changed = fields[:-1] if rng.random() < 0.5 else fields + [fields[-1]]
        return LineEdit(row, (b",".join(changed),), 0, kind)
    if kind == UNPARSABLE_NUMBER:
        numeric = [c.name for c in SOURCE_TABLES[table].columns if c.type == "int"]
        return replaced(pick(numeric), pick(_UNPARSABLE))
    if kind == OUT_OF_RANGE:
        candidates = [c for c in _OUT_OF_RANGE[table]
                      if not (is_first_order and c == "days_since_prior_order")]
        column = pick(candidates)
        return replaced(column, pick(_OUT_OF_RANGE[table][column]))
    if kind == EMPTY_KEY:
        return replaced(pick(SOURCE_TABLES[table].primary_key), b"")
    if kind == DUPLICATE_ROW:
        return LineEdit(row, (line, line), 1, kind)
    if kind == UNKNOWN_ID:
        column = pick(_REFERENCE_COLUMNS[table])
        missing = id_limits[column] + 1 + int(rng.integers(1000))
        return replaced(column, str(missing).encode("ascii"))
    if kind == BROKEN_UTF8:
        column = pick(_TEXT_COLUMNS[table])
        return replaced(column, _break_utf8(rng, fields[columns.index(column)]))
    if kind == TRUNCATED_LAST_LINE:
        cut = int(rng.integers(1, line.rindex(b",") + 1))
        return LineEdit(row, (line[:cut],), 0, kind, ends_file=True)
    if kind == INVALID_EVAL_SET:
        return replaced("eval_set", pick(_BAD_EVAL_SETS))
    if kind == DAYS_ON_FIRST_ORDER:
        return replaced("days_since_prior_order", f"{int(rng.integers(1, 31))}.0".encode("ascii"))
    raise ValueError(f"unknown defect kind {kind!r}")


def _break_utf8(rng: np.random.Generator, field: bytes) -> bytes:
    """The field with an invalid UTF-8 sequence inserted between two characters."""
    text = field.decode("utf-8")
    quoted = text.startswith('"')
    at = int(rng.integers(1 if quoted else 0, len(text) - (1 if quoted else 0) + 1))
    bad = _INVALID_UTF8[int(rng.integers(len(_INVALID_UTF8)))]
    return text[:at].encode("utf-8") + bad + text[at:].encode("utf-8")
