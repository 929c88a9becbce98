"""Job 1 (raw to clean) for one landing per table into an empty lake, in DuckDB SQL.

An independent reference for `instacart_lake.jobs.raw_to_clean`, written from the rules of
the data contract (instacart_lake.csv_records, instacart_lake.schemas, the reason codes of
instacart_lake.transforms.raw_to_clean), not from the Spark code. Each file is read once
(instacart_lake.reference.csv_lines); the SQL below is generated from the declared schema.
Tables are processed in schemas.SOURCE_TABLES order, and each step sees the previous one as
job 1 does: parse -> foreign keys (against the referenced tables' clean rows) -> duplicate
keys (among the rows with no reasons) -> the orders' one-last-order rule -> disposition.

Tests compare its outcome with job 1's line for line; benchmarks/raw_to_clean_vs_duckdb.py
compares their running times.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import duckdb
import pyarrow as pa

from instacart_lake.reference.csv_lines import read_records
from instacart_lake.schemas import NAME_COLUMNS, SOURCE_TABLES, Column, SourceTable
from instacart_lake.transforms.order_contract import LAST_ORDER_SETS, SECOND_LAST_ORDER

_TYPES = {"int": "INTEGER", "string": "VARCHAR"}
_ASCII_WHITESPACE = "(' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13))"
_INTEGER = r"[+-]?[0-9]{1,10}(\.0+)?"
_PLAIN_INTEGER = r"[0-9]{1,9}(\.0+)?"
"""An integer that surely fits an INTEGER and needs no trimming: rows made only of such
fields (and allowed values) skip the per-field regular expressions."""
_UNICODE_WHITESPACE = (r"[\s\x0b\x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
                       r"\x{202f}\x{205f}\x{3000}]+")
"""What Python's str.split() splits at: a name's runs of it become one space."""


@dataclass(frozen=True)
class TableOutcome:
    """What the reference did with one table: its clean rows (None when they were written
    to Parquet only), how many, the quarantine (`line_number`, `raw_bytes`, `raw_line`,
    `reasons` sorted) and the exact duplicates dropped."""

    clean_rows: int
    dropped_duplicates: int
    quarantine: pa.Table
    clean: pa.Table | None = None


def clean_tables(sources: Mapping[str, Path], out: Path | None = None,
                 threads: int | None = None) -> dict[str, TableOutcome]:
    """Clean the CSV file of each source table (`sources`: table name -> path; every table a
    foreign key of a given table references must be given too). With `out`, writes
    `<out>/<table>/clean.parquet` and `<out>/<table>/quarantine.parquet`."""
    connection = duckdb.connect()
    if threads is not None:
        connection.execute(f"SET threads = {int(threads)}")
    connection.execute("SET preserve_insertion_order = false")
    outcomes = {}
    for table in SOURCE_TABLES.values():
        if table.name in sources:
            outcomes[table.name] = _clean_table(connection, table, Path(sources[table.name]), out)
    connection.close()
    return outcomes


def _clean_table(connection: duckdb.DuckDBPyConnection, table: SourceTable, source: Path,
                 out: Path | None) -> TableOutcome:
    name = table.name
    records = read_records(source)
    connection.register(f"{name}_records", records.table)
    connection.register(f"{name}_quoted", records.quoted)
    connection.execute(f"CREATE TABLE {name}_checked AS {_checked_sql(table)}")
    connection.execute(f"CREATE TABLE {name}_outcome AS {_outcome_sql(table)}")
    connection.execute(f"DROP TABLE {name}_checked")
    columns = ", ".join(table.column_names)
    connection.execute(f"CREATE VIEW {name}_clean AS SELECT {columns} FROM {name}_outcome "
                       "WHERE disposition = 'clean'")
    connection.execute(f"CREATE VIEW {name}_rejected AS SELECT {columns} FROM {name}_outcome "
                       "WHERE disposition = 'quarantined'")
    quarantine = (f"SELECT o.line_number, r.raw AS raw_bytes, r.text AS raw_line, list_sort(o.reasons) AS reasons "
                  f"FROM {name}_outcome AS o JOIN {name}_records AS r USING (line_number) "
                  "WHERE o.disposition = 'quarantined' ORDER BY o.line_number")
    counts = dict(connection.execute(
        f"SELECT disposition, count(*) FROM {name}_outcome GROUP BY disposition").fetchall())
    clean = None
    if out is None:
        clean = connection.execute(f"SELECT * FROM {name}_clean").fetch_arrow_table()
    else:
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        connection.execute(f"COPY {name}_clean TO '{(folder / 'clean.parquet').as_posix()}' (FORMAT parquet)")
        connection.execute(f"COPY ({quarantine}) TO '{(folder / 'quarantine.parquet').as_posix()}' "
                           "(FORMAT parquet)")
    return TableOutcome(counts.get("clean", 0), counts.get("dropped", 0),
                        connection.execute(quarantine).fetch_arrow_table(), clean)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fast_pattern(table: SourceTable) -> str:
    """A whole record whose fields need no trimming, parse as integers where declared and
    hold allowed values (nearly every record of the numeric files)."""
    fields = []
    for column in table.columns:
        if column.type == "int":
            fields.append(f"({_PLAIN_INTEGER})" + ("?" if column.nullable else ""))
        elif column.allowed is not None:
            fields.append("(" + "|".join(column.allowed) + ")")
        else:
            fields.append('[^,"]*')
    return ",".join(fields)


def _text(column: Column, index: int) -> str:
    """The field as text, trimmed of ASCII whitespace (a fast row's fields need no trim)."""
    field = f"f[{index}]"
    trimmed = f"trim({field}, {_ASCII_WHITESPACE})"
    if column.type == "int" or column.allowed is not None:
        return f"CASE WHEN fast THEN {field} ELSE {trimmed} END"
    return trimmed


def _value(column: Column) -> str:
    text = f't_{column.name}'
    if column.type == "int":
        return (f"CASE WHEN fast OR regexp_full_match({text}, '{_INTEGER}') "
                f"THEN TRY_CAST({text} AS INTEGER) END")
    if column.name in NAME_COLUMNS:
        return f"trim(regexp_replace(nfc_normalize({text}), '{_UNICODE_WHITESPACE}', ' ', 'g'), ' ')"
    return text


def _field_reasons(column: Column) -> list[str]:
    """The reasons one field may get, each a CASE expression giving the reason or NULL."""
    name, text, value = column.name, f"t_{column.name}", column.name
    empty = f"({text} IS NULL OR {text} = '')"
    rules = []
    if not column.nullable:
        rules.append((empty, f"missing_value:{name}"))
    if column.type == "int":
        rules.append((f"NOT {empty} AND {value} IS NULL", f"unparsable_number:{name}"))
        if column.minimum is not None:
            rules.append((f"{value} < {column.minimum}", f"out_of_range:{name}"))
        if column.maximum is not None:
            rules.append((f"{value} > {column.maximum}", f"out_of_range:{name}"))
    if column.allowed is not None:
        allowed = ", ".join(_literal(value) for value in column.allowed)
        rules.append((f"NOT {empty} AND {value} NOT IN ({allowed})", f"invalid_value:{name}"))
    if column.max_length is not None:
        rules.append((f"length({value}) > {column.max_length}", f"too_long:{name}"))
    return [f"CASE WHEN {condition} THEN {_literal(reason)} END" for condition, reason in rules]


def _row_reasons(table: SourceTable) -> list[str]:
    """The orders' rule across fields: days_since_prior_order is empty exactly on a first order."""
    if table.name != "orders":
        return []
    has_days = "(t_days_since_prior_order IS NOT NULL AND t_days_since_prior_order <> '')"
    return [f"CASE WHEN order_number = 1 AND {has_days} THEN 'days_since_prior_on_first_order' END",
            f"CASE WHEN order_number > 1 AND NOT {has_days} THEN 'missing_value:days_since_prior_order' END"]


def _any_reason(reasons: list[str]) -> str:
    """A list of the non-NULL ones of `reasons` (built only when there is one)."""
    listed = ", ".join(reasons)
    return (f"CASE WHEN coalesce({listed}) IS NULL THEN []::VARCHAR[] "
            f"ELSE list_filter([{listed}], lambda reason: reason IS NOT NULL) END")


def _parsed_sql(table: SourceTable) -> str:
    """One row per record: the typed, standardized columns and the parse `reasons`."""
    name = table.name
    texts = ", ".join(f"{_text(column, i)} AS t_{column.name}" for i, column in enumerate(table.columns, 1))
    values = ", ".join(f"CAST({_value(column)} AS {_TYPES[column.type]}) AS {column.name}"
                       for column in table.columns)
    field_reasons = [r for column in table.columns for r in _field_reasons(column)] + _row_reasons(table)
    return f"""
        WITH split AS (
            SELECT line_number, valid_utf8, false AS unterminated, string_split(text, ',') AS f,
                   regexp_full_match(text, {_literal(_fast_pattern(table))}) AS fast
            FROM {name}_records WHERE NOT contains(text, '"')
            UNION ALL
            SELECT line_number, valid_utf8, unterminated, fields, false FROM {name}_quoted
        ), texts AS (
            SELECT line_number, valid_utf8, unterminated, fast, len(f) = {len(table.columns)} AS right_width,
                   {texts}
            FROM split
        ), typed AS (
            SELECT *, {values} FROM texts
        )
        SELECT line_number, {", ".join(table.column_names)},
            list_concat(
                CASE WHEN valid_utf8 THEN []::VARCHAR[] ELSE ['invalid_utf8'] END,
                CASE WHEN unterminated THEN CASE WHEN right_width THEN ['unterminated_quote']
                                                 ELSE ['unterminated_quote', 'wrong_column_count'] END
                     WHEN right_width THEN {_any_reason(field_reasons)}
                     ELSE ['wrong_column_count'] END) AS reasons
        FROM typed"""


def _checked_sql(table: SourceTable) -> str:
    """The parsed rows with the foreign-key reasons added to those that parsed with none:
    a key with no clean row is `referenced_row_quarantined:<column>` when the referenced
    table quarantined a row with it, `unknown_<column>` otherwise; an order line whose order
    has another eval_set than the table's is `order_eval_set_mismatch`."""
    if not table.foreign_keys:
        return _parsed_sql(table)
    joins, reasons = [], []
    for index, foreign_key in enumerate(table.foreign_keys):
        column, referenced = foreign_key.column, foreign_key.referenced_column
        checks_eval_set = foreign_key.table == "orders" and table.order_eval_set is not None
        extra = ", eval_set" if checks_eval_set else ""
        joins.append(f"LEFT JOIN (SELECT {referenced} AS key{extra} FROM {foreign_key.table}_clean) AS c{index} "
                     f"ON p.{column} = c{index}.key")
        joins.append(f"LEFT JOIN (SELECT DISTINCT {referenced} AS key FROM {foreign_key.table}_rejected "
                     f"WHERE {referenced} IS NOT NULL) AS q{index} ON p.{column} = q{index}.key")
        reasons.append(f"CASE WHEN c{index}.key IS NULL THEN CASE WHEN q{index}.key IS NOT NULL "
                       f"THEN 'referenced_row_quarantined:{column}' ELSE 'unknown_{column}' END END")
        if checks_eval_set:
            reasons.append(f"CASE WHEN c{index}.key IS NOT NULL AND c{index}.eval_set <> "
                           f"{_literal(table.order_eval_set)} THEN 'order_eval_set_mismatch' END")
    columns = ", ".join(f"p.{column}" for column in table.column_names)
    return f"""
        WITH p AS ({_parsed_sql(table)})
        SELECT p.line_number, {columns},
               CASE WHEN len(p.reasons) = 0 THEN {_any_reason(reasons)} ELSE p.reasons END AS reasons
        FROM p {" ".join(joins)}"""


def _outcome_sql(table: SourceTable) -> str:
    """Each checked row with its `disposition`. Among the rows with no reasons, the first
    row of a key (by line number) keeps it; a later one with equal values is `dropped`, one
    with other values is quarantined as `duplicate_key`. Then, for orders, every kept train
    or test order of a user with two or more gets `second_last_order:eval_set`."""
    name, key = table.name, ", ".join(table.primary_key)
    values = ", ".join(f"{column} := {column}" for column in table.column_names)
    last_orders = ", ".join(_literal(eval_set) for eval_set in LAST_ORDER_SETS)
    kept = "len(reasons) = 0 AND duplicate IS NULL"
    contract = "" if name != "orders" else f"""
        , breaking AS (
            SELECT user_id FROM marked WHERE {kept} AND eval_set IN ({last_orders})
            GROUP BY user_id HAVING count(*) > 1
        ), contracted AS (
            SELECT * REPLACE (CASE WHEN {kept} AND eval_set IN ({last_orders})
                                        AND user_id IN (SELECT user_id FROM breaking)
                                   THEN [{_literal(SECOND_LAST_ORDER)}] ELSE reasons END AS reasons)
            FROM marked
        )"""
    final = "contracted" if contract else "marked"
    return f"""
        WITH contested AS (
            SELECT {key} FROM {name}_checked WHERE len(reasons) = 0 GROUP BY {key} HAVING count(*) > 1
        ), ranked AS (
            SELECT line_number,
                   CASE WHEN row_number() OVER by_key = 1 THEN NULL
                        WHEN struct_pack({values}) IS NOT DISTINCT FROM first_value(struct_pack({values})) OVER by_key
                        THEN 'exact' ELSE 'key' END AS duplicate
            FROM {name}_checked SEMI JOIN contested USING ({key})
            WHERE len(reasons) = 0
            WINDOW by_key AS (PARTITION BY {key} ORDER BY line_number)
        ), marked AS (
            SELECT c.*, r.duplicate FROM {name}_checked AS c LEFT JOIN ranked AS r USING (line_number)
        ){contract}
        SELECT * EXCLUDE (duplicate, reasons),
               CASE WHEN duplicate = 'key' THEN ['duplicate_key'] ELSE reasons END AS reasons,
               CASE WHEN duplicate = 'exact' THEN 'dropped'
                    WHEN duplicate = 'key' OR len(reasons) > 0 THEN 'quarantined'
                    ELSE 'clean' END AS disposition
        FROM {final}"""
