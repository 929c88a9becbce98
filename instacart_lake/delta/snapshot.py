"""What a version of a table holds, as delta-rs reports it, and how Spark reads those files.

Spark gets exactly the snapshot's file list with the table's schema; `basePath` at the table root
makes it read the partition columns from the `column=value/` folders. Every file is checked to sit
under such folders, so the values Spark reads are the ones the path states.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.transaction import RemoveAction
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from instacart_lake.delta.paths import hadoop_file, hadoop_location, partition_values_from_path
from instacart_lake.errors import LakeError


@dataclass(frozen=True)
class LiveFile:
    """A data file of a snapshot."""

    path: str  # relative to the table root, decoded
    size: int
    partition_values: dict[str, str | None]

    def remove_action(self, deletion_timestamp_ms: int) -> RemoveAction:
        return RemoveAction(self.path, True, deletion_timestamp_ms, self.size, self.partition_values)


def snapshot_actions(table: DeltaTable) -> pa.Table:
    """One row per live file: path, size_bytes, num_records, min.<col>, max.<col>, null_count.<col>..."""
    return pa.table(table.get_add_actions(flatten=True))


def live_files(actions: pa.Table, partition_by: list[str]) -> list[LiveFile]:
    return [
        LiveFile(path, size, partition_values_from_path(path, partition_by))
        for path, size in zip(
            (unquote(path) for path in actions.column("path").to_pylist()),
            actions.column("size_bytes").to_pylist(),
        )
    ]


def check_readable(table: DeltaTable, table_uri: str) -> None:
    """Refuse tables whose files are not plain Parquet plus the log (column mapping, deletion vectors)."""
    reader_version = table.protocol().min_reader_version
    if reader_version > 1:
        raise LakeError(
            f"{table_uri}: reader version {reader_version} tables need the Delta Spark extension to be read"
        )


def read_files(spark: SparkSession, table_uri: str, schema: T.StructType, paths: list[str]) -> DataFrame:
    """The rows of the given table files, with the table's schema and column order."""
    if not paths:
        return spark.createDataFrame([], schema)
    return (
        spark.read.schema(schema)
        .option("basePath", hadoop_location(table_uri))
        .parquet(*(hadoop_file(table_uri, path) for path in paths))
        .select(*schema.fieldNames())
    )
