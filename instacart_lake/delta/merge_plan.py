"""Which files of a table an upsert by key has to rewrite.

A file must be rewritten only if it holds a row whose key is among the incoming keys. The log
narrows the files to look at without opening them: a file is skipped when a key that is a
partition column has a value in its folder that no incoming row has, or when the file's min/max
statistics of a key column do not overlap the incoming keys' range. The remaining files are then
scanned for their key columns only and joined with the incoming keys; the files with a match are
the ones to rewrite, together with how many of their rows each incoming row replaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from instacart_lake.delta.paths import relative_path_of
from instacart_lake.delta.snapshot import LiveFile, read_files
from instacart_lake.errors import LakeError

RANGE_KEY_TYPES = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.StringType, T.DateType)
FILE_COLUMN = "__lake_input_file"


@dataclass(frozen=True)
class KeyProfile:
    """What the incoming rows' keys span: row count, key ranges and partition-key values."""

    rows: int
    ranges: dict[str, tuple[Any, Any]]  # key column -> (min, max); None bounds when all are null
    partition_values: dict[str, set[str]]  # partition key column -> its values as folder text


def profile_keys(source: DataFrame, keys: list[str], partition_by: list[str], table_uri: str) -> KeyProfile:
    """One pass over the incoming keys; a LakeError if two incoming rows share a (non-null) key."""
    _check_unique_keys(source, keys, table_uri)
    types = {field.name: field.dataType for field in source.schema.fields}
    range_keys = [k for k in keys if k not in partition_by and isinstance(types[k], RANGE_KEY_TYPES)]
    partition_keys = [k for k in keys if k in partition_by]
    aggregates = [F.count(F.lit(1)).alias("rows")]
    aggregates += [F.min(k).alias(f"min_{i}") for i, k in enumerate(range_keys)]
    aggregates += [F.max(k).alias(f"max_{i}") for i, k in enumerate(range_keys)]
    aggregates += [F.collect_set(F.col(k).cast("string")).alias(f"set_{i}") for i, k in enumerate(partition_keys)]
    row = source.agg(*aggregates).first()
    return KeyProfile(
        rows=row["rows"],
        ranges={k: (row[f"min_{i}"], row[f"max_{i}"]) for i, k in enumerate(range_keys)},
        partition_values={k: set(row[f"set_{i}"]) for i, k in enumerate(partition_keys)},
    )


def _check_unique_keys(source: DataFrame, keys: list[str], table_uri: str) -> None:
    has_key = F.lit(True)
    for key in keys:
        has_key = has_key & F.col(key).isNotNull()
    duplicates = source.where(has_key).groupBy(*keys).count().where(F.col("count") > 1).limit(3).collect()
    if duplicates:
        examples = ", ".join(str(tuple(row[k] for k in keys)) for row in duplicates)
        raise LakeError(f"{table_uri}: the rows to merge repeat keys {keys}, e.g. {examples}")


def candidate_files(actions: pa.Table, files: list[LiveFile], profile: KeyProfile) -> list[LiveFile]:
    """The files whose partition folders and key statistics allow an incoming key (`actions` and
    `files` list the same files in the same order)."""
    keep = pa.array([True] * len(files), pa.bool_())
    for key, (low, high) in profile.ranges.items():
        if low is None:
            return []
        if f"min.{key}" in actions.column_names and f"max.{key}" in actions.column_names:
            overlaps = pc.and_(
                pc.less_equal(actions.column(f"min.{key}"), pa.scalar(high)),
                pc.greater_equal(actions.column(f"max.{key}"), pa.scalar(low)),
            )
            keep = pc.and_(keep, pc.fill_null(overlaps, True))
    allowed = keep.to_pylist()
    return [
        file
        for file, is_allowed in zip(files, allowed)
        if is_allowed
        and all(file.partition_values[key] in values for key, values in profile.partition_values.items())
    ]


def matched_rows_by_file(
    spark: SparkSession,
    table_uri: str,
    schema: T.StructType,
    candidates: list[LiveFile],
    source: DataFrame,
    keys: list[str],
) -> dict[str, int]:
    """For each candidate file holding an incoming key: how many of its rows match (reads key columns only)."""
    if not candidates:
        return {}
    target_keys = read_files(spark, table_uri, schema, [file.path for file in candidates]).select(
        *keys, F.input_file_name().alias(FILE_COLUMN)
    )
    matches = target_keys.join(source.select(*keys), on=keys, how="inner").groupBy(FILE_COLUMN).count().collect()
    return {relative_path_of(row[FILE_COLUMN], table_uri): row["count"] for row in matches}
