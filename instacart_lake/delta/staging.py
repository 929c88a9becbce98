"""Spark writes a DataFrame's Parquet files into a fresh folder of the table; nothing commits them.

Each write gets its own folder `<table>/lake_write=<write_id>/`, with Hive-style `column=value/`
folders below it for the partition columns (which are not stored in the files, as in Delta). A
write that dies before its commit therefore never collides with live files, and its folder is only
an orphan that no version of the log references. The write folder is itself named `name=value` so
that Spark, reading files of many writes with `basePath` at the table root, infers one consistent
partition layout (it takes `lake_write` for one more partition column, which reads then drop).
Statistics are read from the footers Spark wrote.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow.parquet as pq
from deltalake.transaction import AddAction
from pyarrow import fs as pafs
from pyspark.sql import DataFrame

from instacart_lake import storage
from instacart_lake.delta.commit_info import new_write_id
from instacart_lake.delta.file_stats import delta_stats_json
from instacart_lake.delta.paths import hadoop_file, partition_values_from_path
from instacart_lake.delta.spark_conf import session_conf
from instacart_lake.delta.table_schema import data_schema
from instacart_lake.errors import LakeError

log = logging.getLogger(__name__)

FOOTER_READERS = 8
WRITE_FOLDER_KEY = "lake_write"


@dataclass(frozen=True)
class StagedFile:
    """A Parquet file written into the table folder, ready to be added by a commit."""

    path: str  # relative to the table root, not percent-encoded
    size: int
    modification_time_ms: int
    partition_values: dict[str, str | None]
    num_records: int
    stats: str

    def add_action(self) -> AddAction:
        return AddAction(self.path, self.size, self.partition_values, self.modification_time_ms, True, self.stats)


@dataclass(frozen=True)
class StagedWrite:
    write_id: str
    files: list[StagedFile]

    @property
    def num_records(self) -> int:
        return sum(file.num_records for file in self.files)

    @property
    def num_bytes(self) -> int:
        return sum(file.size for file in self.files)


def stage_parquet_files(df: DataFrame, table_uri: str, partition_by: list[str]) -> StagedWrite:
    """Write `df` as Parquet files under a new folder of the table and describe them for a commit.

    If Spark fails, the folder is deleted (it is this write's own). Nothing is ever visible to
    readers before a commit adds the files.
    """
    if WRITE_FOLDER_KEY in df.columns:
        raise LakeError(f"{table_uri}: the column name {WRITE_FOLDER_KEY} is reserved for write folders")
    write_id = new_write_id()
    folder = f"{WRITE_FOLDER_KEY}={write_id}"
    folder_uri = f"{table_uri.rstrip('/')}/{folder}"
    try:
        # INT64 microseconds: Spark's default INT96 timestamps have no footer statistics
        with session_conf(df.sparkSession, "spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS"):
            (
                df.write.mode("errorifexists")
                .option("mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
                .partitionBy(*partition_by)
                .parquet(hadoop_file(table_uri, folder))
            )
    except Exception:
        storage.delete(folder_uri)
        raise
    files = _describe_files(folder_uri, folder, df, partition_by)
    log.info("staged %d files (%d rows) in %s", len(files), sum(f.num_records for f in files), folder_uri)
    return StagedWrite(write_id, files)


def _describe_files(folder_uri: str, folder: str, df: DataFrame, partition_by: list[str]) -> list[StagedFile]:
    """The data files of the folder with their statistics; Hadoop's `.crc` sidecars are deleted."""
    location = storage.resolve(folder_uri)
    selector = pafs.FileSelector(location.path, recursive=True, allow_not_found=True)
    infos = [info for info in location.filesystem.get_file_info(selector) if info.type == pafs.FileType.File]
    for info in infos:
        if not info.base_name.endswith(".parquet"):
            location.filesystem.delete_file(info.path)
    data_files = [info for info in infos if info.base_name.endswith(".parquet")]
    schema = data_schema(df.schema, partition_by)

    def describe(info: pafs.FileInfo) -> StagedFile:
        metadata = pq.read_metadata(info.path, filesystem=location.filesystem)
        path = f"{folder}/{info.path[len(location.path.rstrip('/')) + 1:]}"
        return StagedFile(
            path=path,
            size=info.size,
            modification_time_ms=info.mtime_ns // 1_000_000,
            partition_values=partition_values_from_path(path, partition_by),
            num_records=metadata.num_rows,
            stats=delta_stats_json(metadata, schema),
        )

    with ThreadPoolExecutor(FOOTER_READERS) as pool:
        return sorted(pool.map(describe, data_files), key=lambda file: file.path)

