"""Schema drift between what a table says and what a new landing holds (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from instacart_lake.crawler.csv_inference import widen

PartitionColumns = list[tuple[str, str | None]]
"""A landing's columns; None where the landing held no value for a column (a header-only file)."""
Columns = list[tuple[str, str]]

DEFAULT_TYPE = "string"


@dataclass(frozen=True)
class SchemaDrift:
    """One difference between a partition and its table: a column added, missing or retyped."""

    table: str
    partition: str
    kind: str
    column: str
    old_type: str | None
    new_type: str | None


def merge_columns(column_lists: list[PartitionColumns]) -> PartitionColumns:
    """The columns of several files of one landing: every name in first-seen order, types widened."""
    merged: dict[str, str | None] = {}
    for columns in column_lists:
        for name, column_type in columns:
            merged[name] = widen(merged[name], column_type) if name in merged else column_type
    return list(merged.items())


def find_drift(table: str, partition: str, table_columns: Columns,
               partition_columns: PartitionColumns) -> list[SchemaDrift]:
    """The columns a landing adds, lacks or holds with another type than its table."""
    table_types = dict(table_columns)
    partition_types = dict(partition_columns)
    drift = [SchemaDrift(table, partition, "added", name, None, column_type or DEFAULT_TYPE)
             for name, column_type in partition_columns if name not in table_types]
    drift += [SchemaDrift(table, partition, "missing", name, column_type, None)
              for name, column_type in table_columns if name not in partition_types]
    drift += [SchemaDrift(table, partition, "retyped", name, table_types[name], column_type)
              for name, column_type in partition_columns
              if name in table_types and column_type is not None and column_type != table_types[name]]
    return drift


def evolve_columns(table_columns: Columns, partition_columns: PartitionColumns) -> Columns:
    """The table's columns after a landing: columns no landing has any more stay (older
    partitions hold them), new columns are appended, and types widen to hold both."""
    evolved = dict(table_columns)
    for name, column_type in partition_columns:
        if name not in evolved:
            evolved[name] = column_type or DEFAULT_TYPE
        elif column_type is not None:
            evolved[name] = widen(evolved[name], column_type)
    return list(evolved.items())


def typed_columns(partition_columns: PartitionColumns, table_columns: Columns) -> Columns:
    """A landing's columns with the table's type (or string) where the landing held no value."""
    table_types = dict(table_columns)
    return [(name, column_type or table_types.get(name, DEFAULT_TYPE)) for name, column_type in partition_columns]
