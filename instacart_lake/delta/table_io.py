"""The one Delta table interface of the lake, and the choice of its backend."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Protocol

from pyspark.sql import DataFrame, SparkSession

from instacart_lake.delta.embedded import EmbeddedDeltaTableIO
from instacart_lake.runtime import delta_extension_enabled


class DeltaTableIO(Protocol):
    """Reads and writes Delta tables at URIs (`file:///...` locally, `s3://...` on AWS).

    Every write commits one new version and returns it; each commit records `run_id` and
    `job_name`. Nothing a write does is visible before its commit.
    """

    def write(
        self,
        df: DataFrame,
        uri: str,
        *,
        mode: Literal["overwrite", "append"],
        run_id: str,
        job_name: str,
        partition_by: list[str] | None = None,
        replace_partitions: bool = False,
    ) -> int:
        """Create, append to or overwrite the table; with `replace_partitions` (mode overwrite)
        only the partitions present in `df` are replaced."""

    def merge_by_key(
        self,
        df: DataFrame,
        uri: str,
        *,
        keys: list[str],
        run_id: str,
        job_name: str,
        partition_by: list[str] | None = None,
    ) -> int:
        """Upsert: rows of `df` replace the rows with the same key, the others are added."""

    def read(self, uri: str, version: int | None = None) -> DataFrame:
        """The current snapshot, or `version` (time travel)."""

    def version(self, uri: str) -> int | None:
        """The latest version, None when there is no table."""

    def history(self, uri: str) -> list[dict[str, Any]]:
        """Commits, newest first: version, timestamp, operation, write_mode, run_id, job_name,
        write_id, rows_written, operation_metrics."""

    def exists(self, uri: str) -> bool:
        """Whether a Delta table is at `uri`."""

    def remove_orphans(self, uri: str, older_than: dt.timedelta) -> list[str]:
        """Delete files no version references and older than `older_than`; their URIs."""


def open_table_io(spark: SparkSession) -> DeltaTableIO:
    """The Spark-Delta backend where the Delta extension is on the classpath, else the embedded one."""
    if delta_extension_enabled(spark):
        from instacart_lake.delta.spark_delta import SparkDeltaTableIO  # needs the delta-spark package

        return SparkDeltaTableIO(spark)
    return EmbeddedDeltaTableIO(spark)
