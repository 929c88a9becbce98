"""The Spark-Delta backend: the Delta Spark extension writes, merges and reads (Glue with
`--datalake-formats delta`, the Glue 5 docker image). It needs the delta-spark Python package and
jars, so it is imported only when the extension is enabled (and is not run by the local tests).

A commit's version is found by the write id in its userMetadata, as in the embedded backend.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from instacart_lake.delta import orphans
from instacart_lake.delta.commit_info import WriteMode, history_entry, new_write_id, user_metadata
from instacart_lake.delta.paths import hadoop_location
from instacart_lake.delta.spark_conf import session_conf
from instacart_lake.errors import LakeError

RECENT_COMMITS = 20
USER_METADATA_CONF = "spark.databricks.delta.commitInfo.userMetadata"


class SparkDeltaTableIO:
    """Delta tables through the Delta Spark extension (DeltaTableIO)."""

    def __init__(self, spark: SparkSession):
        self.spark = spark

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
        if mode not in ("overwrite", "append"):
            raise ValueError(f"mode must be 'overwrite' or 'append', not {mode!r}")
        if replace_partitions and mode != "overwrite":
            raise ValueError("replace_partitions=True needs mode='overwrite'")
        write_mode: WriteMode = "replace_partitions" if replace_partitions else mode
        return self._save(df, uri, mode, write_mode, run_id, job_name, partition_by)

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
        path = hadoop_location(uri)
        if not DeltaTable.isDeltaTable(self.spark, path):
            return self._save(df, uri, "append", "merge_by_key", run_id, job_name, partition_by)
        existing = self.spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()["partitionColumns"]
        if partition_by is not None and list(partition_by) != list(existing):
            raise LakeError(f"{uri}: the table is partitioned by {existing}, not {list(partition_by)}")
        write_id = new_write_id()
        condition = " AND ".join(f"target.`{key}` = source.`{key}`" for key in keys)
        with session_conf(self.spark, USER_METADATA_CONF, user_metadata(run_id, job_name, "merge_by_key", write_id)):
            (
                DeltaTable.forPath(self.spark, path)
                .alias("target")
                .merge(df.alias("source"), condition)
                .whenMatchedUpdateAll()
                .whenNotMatchedInsertAll()
                .execute()
            )
        return self._committed_version(path, write_id)

    def read(self, uri: str, version: int | None = None) -> DataFrame:
        self._require(uri)
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        return reader.load(hadoop_location(uri))

    def version(self, uri: str) -> int | None:
        path = hadoop_location(uri)
        if not DeltaTable.isDeltaTable(self.spark, path):
            return None
        return DeltaTable.forPath(self.spark, path).history(1).first()["version"]

    def history(self, uri: str) -> list[dict[str, Any]]:
        """The table's commits, newest first."""
        self._require(uri)
        return [history_entry(*row) for row in self._history_rows(hadoop_location(uri), None)]

    def exists(self, uri: str) -> bool:
        return DeltaTable.isDeltaTable(self.spark, hadoop_location(uri))

    def remove_orphans(self, uri: str, older_than: dt.timedelta) -> list[str]:
        return orphans.remove_orphans(uri, older_than)

    def _require(self, uri: str) -> None:
        if not self.exists(uri):
            raise LakeError(f"{uri}: no Delta table there")

    def _save(
        self,
        df: DataFrame,
        uri: str,
        mode: str,
        write_mode: WriteMode,
        run_id: str,
        job_name: str,
        partition_by: list[str] | None,
    ) -> int:
        write_id = new_write_id()
        writer = df.write.format("delta").mode(mode).option(
            "userMetadata", user_metadata(run_id, job_name, write_mode, write_id)
        )
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        if write_mode == "replace_partitions":
            writer = writer.option("partitionOverwriteMode", "dynamic")
        elif write_mode == "overwrite":
            # static even where the session sets dynamic partition overwrite, which Delta honours
            writer = writer.option("partitionOverwriteMode", "static").option("overwriteSchema", "true")
        path = hadoop_location(uri)
        writer.save(path)
        return self._committed_version(path, write_id)

    def _committed_version(self, path: str, write_id: str) -> int:
        for limit in (RECENT_COMMITS, None):
            for row in self._history_rows(path, limit):
                entry = history_entry(*row)
                if entry["write_id"] == write_id:
                    return entry["version"]
        raise RuntimeError(f"{path}: the commit of write {write_id} is not in the history")

    def _history_rows(self, path: str, limit: int | None) -> list[tuple]:
        rows = DeltaTable.forPath(self.spark, path).history(limit).select(
            "version", F.unix_millis("timestamp"), "operation", "userMetadata", "operationMetrics"
        ).collect()
        return [tuple(row) for row in rows]

