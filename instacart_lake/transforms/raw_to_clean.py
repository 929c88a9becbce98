"""Job 1's pure transforms: raw CSV records to typed, standardized, validated rows.

Input is one row per raw data record (`source_file`, `line_number`, `value`: the record as
read, header excluded; instacart_lake.csv_records defines records). Nothing is inferred:
every field is parsed against the table's declared schema (instacart_lake.schemas). A row
that breaks a rule gets reason codes (`code` or `code:column`) and goes to the quarantine
with its record as it was; a row that is an exact copy of an earlier row with the same key
is dropped and counted.

Standardization: fields are trimmed of ASCII whitespace (spaces, tabs, line ends); names
take Unicode NFC and single spaces, so a lone carriage return inside a name (data, not a
line end) becomes a space in the clean value; integers accept zero padding (`09` -> 9) and a
zero fraction (`15.0` -> 15) and nothing else (`15.5`, `1e3`, `x` are unparsable).
"""

from __future__ import annotations

import unicodedata
from functools import reduce

import pandas as pd
from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from instacart_lake.schemas import NAME_COLUMNS, Column, SourceTable

LINE_COLUMNS = ("source_file", "line_number")
CSV_OPTIONS = {"quote": '"', "escape": '"', "mode": "PERMISSIVE"}
_INTEGER_PATTERN = r"^[+-]?[0-9]{1,10}(\.0+)?$"
_EXTRA_FIELD = "_extra_field"
_ASCII_WHITESPACE = " \t\n\r\f\v"
UNTERMINATED_QUOTE = "unterminated_quote"
BROADCAST_KEYS = 2_000_000
"""The most keys a join sends to every task (a few tens of MB) rather than shuffling the rows."""


@F.pandas_udf(T.StringType())
def normalize_name(names: pd.Series) -> pd.Series:
    """NFC, single spaces, trimmed (Spark has no Unicode normalization of its own)."""
    return names.map(
        lambda name: None if name is None else " ".join(unicodedata.normalize("NFC", name).split())
    )


def quote_count(record: SparkColumn) -> SparkColumn:
    """The number of `"` in a record (counted in bytes, so that invalid UTF-8 counts right).
    Odd only for a record whose quote never closed (instacart_lake.csv_records)."""
    return F.octet_length(record) - F.octet_length(F.replace(record, F.lit('"'), F.lit("")))


def field_count(record: SparkColumn) -> SparkColumn:
    """Fields in a CSV record: commas outside quoted sections, plus one (a quoted section may
    hold line ends; one that never closes runs to the end of the record)."""
    unquoted = F.regexp_replace(record, r'"[^"]*(?:"|\z)', "")
    return F.length(unquoted) - F.length(F.regexp_replace(unquoted, ",", "")) + 1


def trimmed(text: SparkColumn) -> SparkColumn:
    """A field without the ASCII whitespace around it (spaces, tabs, line ends)."""
    return F.btrim(text, F.lit(_ASCII_WHITESPACE))


def has_ascii_whitespace(text: SparkColumn) -> SparkColumn:
    """Whether the text holds any ASCII whitespace: one byte search per character, which costs
    a tenth of trimming the fields of a record that has none (nearly every numeric record)."""
    return reduce(SparkColumn.__or__, [text.contains(character) for character in _ASCII_WHITESPACE])


def is_valid_utf8(line: SparkColumn) -> SparkColumn:
    """True when the line's bytes are valid UTF-8 (decoding and re-encoding gives them back)."""
    raw = line.cast("binary")
    return F.encode(F.decode(raw, "UTF-8"), "UTF-8") == raw


def parse_integer(text: SparkColumn) -> SparkColumn:
    """The integer in a trimmed field (`09` -> 9, `15.0` -> 15), null when it is not one.

    A field in canonical form (what the int prints as: nearly every field) is taken by the
    cast alone; only the others pay for the pattern (Spark's cast, with ANSI mode off as on
    Glue, truncates `15.5` and so cannot decide them)."""
    cast = text.cast("int")
    digits = F.regexp_extract(text, r"^([+-]?[0-9]+)", 1)
    value = digits.cast("bigint")
    fits = value.between(-(2**31), 2**31 - 1)
    return F.when(cast.cast("string") == text, cast).when(text.rlike(_INTEGER_PATTERN) & fits, value.cast("int"))


def standardize(column: Column, text: SparkColumn) -> SparkColumn:
    if column.type == "int":
        return parse_integer(text)
    if column.name in NAME_COLUMNS:
        return normalize_name(text)
    return text


def reasons_for_field(column: Column, text: SparkColumn, value: SparkColumn) -> list[SparkColumn]:
    """Reason codes for one field: missing, unparsable, out of range, not an allowed value,
    longer than the column's max_length (measured on the standardized value, as the clean
    table's ColumnLength rule measures it)."""
    name = column.name
    is_empty = text.isNull() | (text == "")
    reasons = []
    if not column.nullable:
        reasons.append(F.when(is_empty, F.lit(f"missing_value:{name}")))
    if column.type == "int":
        reasons.append(F.when(~is_empty & value.isNull(), F.lit(f"unparsable_number:{name}")))
        bounds = []
        if column.minimum is not None:
            bounds.append(value < column.minimum)
        if column.maximum is not None:
            bounds.append(value > column.maximum)
        for out_of_bounds in bounds:
            reasons.append(F.when(out_of_bounds, F.lit(f"out_of_range:{name}")))
    if column.allowed is not None:
        reasons.append(F.when(~is_empty & ~value.isin(*column.allowed), F.lit(f"invalid_value:{name}")))
    if column.max_length is not None:
        reasons.append(F.when(F.length(value) > column.max_length, F.lit(f"too_long:{name}")))
    return reasons


def no_reasons() -> SparkColumn:
    return F.array().cast("array<string>")


def any_reason(reasons: list[SparkColumn]) -> SparkColumn:
    """Whether any of the reasons (each a `when(rule broken, code)`) applies. Rows with no
    reason, nearly all, skip building the array of reasons: its compaction (a lambda) is
    interpreted, row by row."""
    return reduce(SparkColumn.__or__, [reason.isNotNull() for reason in reasons], F.lit(False))


def reasons_for_row(table: SourceTable, texts: dict[str, SparkColumn]) -> list[SparkColumn]:
    """Rules across the fields of one row: days_since_prior_order is empty exactly on a
    user's first order."""
    if table.name != "orders":
        return []
    first_order = F.col("order_number") == 1
    has_days = texts["days_since_prior_order"].isNotNull() & (texts["days_since_prior_order"] != "")
    return [
        F.when(first_order & has_days, F.lit("days_since_prior_on_first_order")),
        F.when((F.col("order_number") > 1) & ~has_days, F.lit("missing_value:days_since_prior_order")),
    ]


def _csv_fields(table: SourceTable) -> list[str]:
    """The declared columns and one more, which holds the first field too many."""
    return [*table.column_names, _EXTRA_FIELD]


def _csv_schema(table: SourceTable) -> str:
    return ", ".join(f"`{name}` string" for name in _csv_fields(table))


def parse_lines(lines: DataFrame, table: SourceTable) -> DataFrame:
    """One row per raw record: the declared columns, typed and standardized, plus `reasons`
    (empty when the row is valid) and the record as it was (`value`). A record whose quote
    never closed gets `unterminated_quote` (and `wrong_column_count` when the open quote
    swallows fields) instead of reasons for fields it cannot be trusted to hold.

    A record without `"` cannot quote a comma, so it is split at its commas; only records
    with quotes go through the CSV parser (which costs about 25 times the split). Only the
    fields of a record with whitespace in it are trimmed."""
    record = F.col("value")
    quoted = F.col("_quoted")
    plain = F.col("_plain")
    fields = lines.select(
        *LINE_COLUMNS, "value", record.contains('"').alias("_quoted"), F.split(record, ",", -1).alias("_plain"),
    ).select(
        *LINE_COLUMNS,
        "value",
        is_valid_utf8(record).alias("_valid_utf8"),
        has_ascii_whitespace(record).alias("_has_whitespace"),
        (F.when(quoted, field_count(record)).otherwise(F.size(plain)) == len(table.columns)).alias("_right_width"),
        (quoted & (quote_count(record) % 2 == 1)).alias("_unterminated"),
        F.when(quoted, F.from_csv(record, _csv_schema(table), CSV_OPTIONS))
        .otherwise(F.struct(*[F.get(plain, index).alias(name) for index, name in enumerate(_csv_fields(table))]))
        .alias("_fields"),
    )
    field_texts = {c.name: F.col(f"_fields.`{c.name}`") for c in table.columns}
    trimmed_texts = fields.select("*", *[F.when(F.col("_has_whitespace"), trimmed(text)).otherwise(text)
                                         .alias(f"_text_{name}") for name, text in field_texts.items()])
    texts = {c.name: F.col(f"_text_{c.name}") for c in table.columns}
    typed = trimmed_texts.select(
        "*",
        *[standardize(c, texts[c.name]).alias(c.name) for c in table.columns],
    )
    field_reasons = [r for c in table.columns for r in reasons_for_field(c, texts[c.name], F.col(c.name))]
    field_reasons += reasons_for_row(table, texts)
    wrong_width = F.when(~F.col("_right_width"), F.lit("wrong_column_count"))
    row_reasons = F.when(
        F.col("_unterminated"), F.array_compact(F.array(F.lit(UNTERMINATED_QUOTE), wrong_width)),
    ).when(
        F.col("_right_width"), F.array_compact(F.array(*field_reasons)),
    ).otherwise(F.array(F.lit("wrong_column_count")))
    all_reasons = F.concat(
        F.when(F.col("_valid_utf8"), no_reasons()).otherwise(F.array(F.lit("invalid_utf8"))),
        row_reasons,
    )
    is_valid = F.col("_valid_utf8") & F.col("_right_width") & ~F.col("_unterminated") & ~any_reason(field_reasons)
    reasons = F.when(is_valid, no_reasons()).otherwise(all_reasons)
    return typed.select(*table.column_names, *LINE_COLUMNS, "value", reasons.alias("reasons"))


def mark_duplicates(
    rows: DataFrame, table: SourceTable, file_versions: dict[str, int] | None = None
) -> DataFrame:
    """Adds `duplicate` to valid rows (no reasons): None for the row that keeps its key,
    `exact` for another copy with the same values, `key` for another row with other values in
    the same file, `superseded` for one in an older landing.

    The row that keeps a key is the first in its file, from the newest landing: a changed
    file that landed again (a higher version in `file_versions`, file URI -> version)
    supersedes the older one. Rows with reasons get None: they compete for no key.

    Keys are counted first (a shuffle of the key columns only), so that the ordering window
    runs over the rows of repeated keys alone, not over every row; the repeated keys are kept
    (few: none in clean data), and the rows are joined to them by broadcast, so that the rows
    themselves are never shuffled (when no key repeats, they are not joined at all). The rows
    of repeated keys are marked once and kept, so that each later pass over the result scans
    the rows once, not once more for the window."""
    is_valid = F.size("reasons") == 0
    key = list(table.primary_key)
    repeated = (rows.where(is_valid).groupBy(*key).agg(F.count(F.lit(1)).alias("_copies"))
                .where(F.col("_copies") > 1).select(*key, F.lit(True).alias("_is_contested"))
                .localCheckpoint(eager=True))
    repeated_keys = repeated.count()
    if not repeated_keys:
        return rows.withColumn("duplicate", F.lit(None).cast("string"))
    flagged = rows.join(F.broadcast(repeated) if repeated_keys <= BROADCAST_KEYS else repeated, on=key, how="left")
    is_contested = is_valid & F.col("_is_contested").isNotNull()
    uncontested = flagged.where(~is_contested).withColumn("duplicate", F.lit(None).cast("string"))
    versions = file_versions or {}
    version = (
        F.create_map(*[F.lit(x) for item in sorted(versions.items()) for x in item])[F.col("source_file")]
        if versions else F.lit(0)
    )
    by_key = Window.partitionBy(*key).orderBy(F.coalesce(version, F.lit(0)).desc(), *LINE_COLUMNS)
    so_far = by_key.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    values = F.struct(*table.column_names)
    contested = flagged.where(is_contested).withColumn(
        "duplicate",
        F.when(F.row_number().over(by_key) == 1, F.lit(None).cast("string"))
        .when(values == F.first(values).over(so_far), F.lit("exact"))
        .when(F.col("source_file") != F.first("source_file").over(so_far), F.lit("superseded"))
        .otherwise(F.lit("key")),
    ).localCheckpoint(eager=True)
    return uncontested.unionByName(contested).drop("_is_contested")


def foreign_key_reasons(
    rows: DataFrame,
    table: SourceTable,
    referenced: dict[str, DataFrame],
    quarantined: dict[str, DataFrame] | None = None,
) -> DataFrame:
    """Adds to the `reasons` of valid rows, for each foreign key with no referenced clean row,
    `referenced_row_quarantined:<column>` when the referenced row is in this run's quarantine
    and `unknown_<column>` otherwise; and `order_eval_set_mismatch` for an order line whose
    order has another eval_set. Rows that failed parsing are left as they are.

    `referenced` maps a table name to its clean rows (existing and new); `quarantined` to the
    rows of it quarantined in this run (their key columns, where they parsed)."""
    quarantined = quarantined or {}
    rows = rows.withColumn("_parsed", F.size("reasons") == 0)
    for foreign_key in table.foreign_keys:
        column = foreign_key.column
        keep = [F.col(foreign_key.referenced_column).alias(column)]
        checks_eval_set = foreign_key.table == "orders" and table.order_eval_set is not None
        if checks_eval_set:
            keep.append(F.col("eval_set").alias("_order_eval_set"))
        found, in_quarantine = f"_found_{column}", f"_quarantined_{column}"
        target_keys = (referenced[foreign_key.table]
                       .select(*keep, F.lit(True).alias(found)).dropDuplicates([column]))
        rows = rows.join(F.broadcast(target_keys), on=column, how="left")
        missing_reason = F.lit(f"unknown_{column}")
        if foreign_key.table in quarantined:
            rejected_keys = (quarantined[foreign_key.table]
                             .select(F.col(foreign_key.referenced_column).alias(column),
                                     F.lit(True).alias(in_quarantine))
                             .where(F.col(column).isNotNull()).dropDuplicates([column]))
            rows = rows.join(F.broadcast(rejected_keys), on=column, how="left")
            missing_reason = F.when(F.col(in_quarantine), F.lit(f"referenced_row_quarantined:{column}")
                                    ).otherwise(missing_reason)
        new_reasons = [F.when(F.col(found).isNull(), missing_reason)]
        if checks_eval_set:
            mismatch = F.col(found).isNotNull() & (F.col("_order_eval_set") != table.order_eval_set)
            new_reasons.append(F.when(mismatch, F.lit("order_eval_set_mismatch")))
        rows = rows.withColumn(
            "reasons",
            F.when(F.col("_parsed") & any_reason(new_reasons),
                   F.concat("reasons", F.array_compact(F.array(*new_reasons))))
            .otherwise(F.col("reasons")),
        ).drop(found, in_quarantine, "_order_eval_set")
    return rows.drop("_parsed")


CLEAN, QUARANTINED, DROPPED = "clean", "quarantined", "dropped_duplicate"


def without_raw_lines_of_valid_rows(rows: DataFrame) -> DataFrame:
    """Drops the raw line (`value`) of rows without reasons: nearly every row, and one that
    still ends in the quarantine (a repeated key, a second last order) is rare, so its line is
    read again (instacart_lake.jobs.raw_to_clean) rather than kept for all. Keeping the lines
    of 32 M valid rows in job 1's cache cost more than half of its build."""
    return rows.withColumn("value", F.when(F.size("reasons") > 0, F.col("value")))


def assign_disposition(rows: DataFrame) -> DataFrame:
    """Adds `disposition`: where each raw line ends (clean, quarantined, or dropped as an exact
    duplicate); a row whose key another row keeps gets the reason `duplicate_key` (same file)
    or `superseded_by_newer_landing` (an older landing). Keeps the raw
    line (`value`) only on quarantined rows. Expects `reasons` and `duplicate` (mark_duplicates)."""
    reasons = (
        F.when(F.col("duplicate") == "key", F.array(F.lit("duplicate_key")))
        .when(F.col("duplicate") == "superseded", F.array(F.lit("superseded_by_newer_landing")))
        .otherwise(F.col("reasons"))
    )
    disposition = (
        F.when(F.col("duplicate") == "exact", F.lit(DROPPED))
        .when(F.size(reasons) > 0, F.lit(QUARANTINED))
        .otherwise(F.lit(CLEAN))
    )
    is_quarantined = disposition == QUARANTINED
    return rows.select(
        *[c for c in rows.columns if c not in ("reasons", "duplicate", "value")],
        reasons.alias("reasons"),
        F.when(is_quarantined, F.col("value")).alias("value"),
        disposition.alias("disposition"),
    )


def clean_rows(rows: DataFrame, table: SourceTable) -> DataFrame:
    """The clean table's schema contract: the declared columns and types, nothing else."""
    schema = table.spark_schema()
    return rows.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])


def quarantine_rows(rows: DataFrame) -> DataFrame:
    """The quarantine's schema contract: where the line was, the line as text (invalid UTF-8
    replaced) and as its exact bytes, and why it was rejected."""
    raw_bytes = F.col("value").cast("binary")
    return rows.select(
        "source_file", "line_number",
        F.decode(raw_bytes, "UTF-8").alias("raw_line"),
        raw_bytes.alias("raw_bytes"),
        "reasons",
    )
