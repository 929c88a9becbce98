"""The embedded Delta backend: Spark writes Parquet files, delta-rs commits them as one transaction.

A write stages its files in a folder of its own (see staging.py), then one delta-rs commit adds
them (and removes the files they replace) with their statistics. The commit is the only moment a
change becomes visible; a write that dies earlier leaves the table as it was, and its files are
orphans for `remove_orphans`. Reads hand Spark the snapshot's file list (see snapshot.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any, Literal

from deltalake import DeltaTable
from deltalake.transaction import CommitProperties, create_table_with_add_actions
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from instacart_lake.delta import merge_plan, orphans
from instacart_lake.delta.commit_info import WriteMode, history_entry, user_metadata, write_id_of
from instacart_lake.delta.paths import deltars_location
from instacart_lake.delta.snapshot import LiveFile, check_readable, live_files, read_files, snapshot_actions
from instacart_lake.delta.staging import StagedWrite, stage_parquet_files
from instacart_lake.delta.table_schema import (
    check_partition_columns,
    conform,
    nullable,
    to_delta_schema,
    to_spark_schema,
)
from instacart_lake.errors import LakeError

log = logging.getLogger(__name__)

RECENT_COMMITS = 20


class EmbeddedDeltaTableIO:
    """Delta tables through Spark (Parquet files) and delta-rs (the log)."""

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
        table = _load(uri)
        if table is None or write_mode == "overwrite":
            keep_partitioning = partition_by is None and table is not None
            columns = list(table.metadata().partition_columns if keep_partitioning else partition_by or [])
            check_partition_columns(df, columns, uri)
            staged = stage_parquet_files(df, uri, columns)
            return self._commit(uri, table, staged, nullable(df.schema), columns, write_mode, run_id, job_name)
        columns = _partition_columns(table, partition_by, uri)
        if replace_partitions and not columns:
            raise LakeError(f"{uri}: replace_partitions needs a partitioned table")
        staged = stage_parquet_files(conform(df, to_spark_schema(table.schema()), uri), uri, columns)
        replaced: list[LiveFile] = []
        if replace_partitions:
            written = {tuple(file.partition_values.items()) for file in staged.files}
            current = live_files(snapshot_actions(table), columns)
            replaced = [file for file in current if tuple(file.partition_values.items()) in written]
        return self._commit(
            uri, table, staged, to_spark_schema(table.schema()), columns, write_mode, run_id, job_name, replaced
        )

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
        """Upsert: rows of `df` replace the table's rows with the same key, the others are added.

        Only the files holding a matching key are rewritten (see merge_plan.py); keys are compared
        with `=`, so a row with a null key never replaces one. Repeated keys in `df` are refused
        when the table exists; a merge into no table inserts every row, as Delta's MERGE does,
        and costs one write.
        """
        missing = [key for key in keys if key not in df.columns]
        if not keys or missing:
            raise LakeError(f"{uri}: merge keys {keys} must be columns of the data (missing: {missing})")
        table = _load(uri)
        if table is None:
            return self._create_by_merge(df, uri, partition_by or [], run_id, job_name)
        columns = _partition_columns(table, partition_by, uri)
        check_partition_columns(df, columns, uri)
        schema = to_spark_schema(table.schema())
        source = conform(df, schema, uri).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            profile = merge_plan.profile_keys(source, keys, columns, uri)
            actions = snapshot_actions(table)
            candidates = merge_plan.candidate_files(actions, live_files(actions, columns), profile)
            matches = merge_plan.matched_rows_by_file(self.spark, uri, schema, candidates, source, keys)
            touched = [file for file in candidates if file.path in matches]
            matched_rows = sum(matches.values())
            kept = read_files(self.spark, uri, schema, [file.path for file in touched])
            to_write = source.unionByName(kept.join(source.select(*keys), on=keys, how="left_anti"))
            log.info("merge into %s rewrites %d files (%d rows replaced)", uri, len(touched), matched_rows)
            staged = stage_parquet_files(to_write, uri, columns)
        finally:
            source.unpersist()
        metrics = {
            "numTargetRowsInserted": profile.rows - matched_rows,
            "numTargetRowsUpdated": matched_rows,
            "numTargetFilesAdded": len(staged.files),
            "numTargetFilesRemoved": len(touched),
            "numOutputRows": staged.num_records,
        }
        return self._commit(uri, table, staged, schema, columns, "merge_by_key", run_id, job_name, touched, metrics)

    def _create_by_merge(self, df: DataFrame, uri: str, columns: list[str], run_id: str, job_name: str) -> int:
        check_partition_columns(df, columns, uri)
        staged = stage_parquet_files(df, uri, columns)
        metrics = {"numTargetRowsInserted": staged.num_records, "numTargetRowsUpdated": 0,
                   "numTargetFilesAdded": len(staged.files), "numTargetFilesRemoved": 0,
                   "numOutputRows": staged.num_records}
        return self._commit(uri, None, staged, nullable(df.schema), columns, "merge_by_key", run_id, job_name,
                            [], metrics)

    def read(self, uri: str, version: int | None = None) -> DataFrame:
        table = _require(uri)
        if version is not None:
            if not 0 <= version <= table.version():
                raise LakeError(f"{uri}: no version {version} (the latest is {table.version()})")
            table.load_as_version(version)
        check_readable(table, uri)
        schema = to_spark_schema(table.schema())
        files = live_files(snapshot_actions(table), table.metadata().partition_columns)
        return read_files(self.spark, uri, schema, [file.path for file in files])

    def version(self, uri: str) -> int | None:
        table = _load(uri)
        return None if table is None else table.version()

    def history(self, uri: str) -> list[dict[str, Any]]:
        """The table's commits, newest first."""
        return [
            history_entry(
                entry["version"],
                entry["timestamp"],
                entry.get("operation", ""),
                entry.get("userMetadata"),
                entry.get("operationMetrics"),
            )
            for entry in _require(uri).history()
        ]

    def exists(self, uri: str) -> bool:
        return DeltaTable.is_deltatable(deltars_location(uri))

    def remove_orphans(self, uri: str, older_than: dt.timedelta) -> list[str]:
        return orphans.remove_orphans(uri, older_than)

    def _commit(
        self,
        uri: str,
        table: DeltaTable | None,
        staged: StagedWrite,
        schema: T.StructType,
        partition_by: list[str],
        write_mode: WriteMode,
        run_id: str,
        job_name: str,
        removed: list[LiveFile] | None = None,
        metrics: dict[str, int] | None = None,
    ) -> int:
        """Make the staged files (and the removal of `removed`) visible as one new version."""
        removed = removed or []
        metrics = metrics or {
            "numFiles": len(staged.files),
            "numOutputRows": staged.num_records,
            "numOutputBytes": staged.num_bytes,
            "numRemovedFiles": len(removed),
        }
        properties = CommitProperties(
            custom_metadata={
                "userMetadata": user_metadata(run_id, job_name, write_mode, staged.write_id),
                "run_id": run_id,
                "job_name": job_name,
                "operationMetrics": {name: str(value) for name, value in metrics.items()},
            }
        )
        adds = [file.add_action() for file in staged.files]
        location = deltars_location(uri)
        if table is None:
            create_table_with_add_actions(
                location, to_delta_schema(schema), adds, mode="error", partition_by=partition_by,
                commit_properties=properties,
            )
        elif write_mode == "overwrite" and partition_by != list(table.metadata().partition_columns):
            create_table_with_add_actions(  # delta-rs changes partitioning only by replacing the table
                location, to_delta_schema(schema), adds, mode="overwrite", partition_by=partition_by,
                configuration=table.metadata().configuration, commit_properties=properties,
            )
        elif write_mode == "overwrite":
            table.create_write_transaction(
                adds, "overwrite", to_delta_schema(schema), partition_by=partition_by, commit_properties=properties
            )
        else:
            now_ms = int(time.time() * 1000)
            actions = adds + [file.remove_action(now_ms) for file in removed]
            table.create_write_transaction(
                actions, "append", table.schema(), partition_by=partition_by, commit_properties=properties
            )
        return _committed_version(location, staged.write_id)


def _load(uri: str) -> DeltaTable | None:
    location = deltars_location(uri)
    return DeltaTable(location) if DeltaTable.is_deltatable(location) else None


def _require(uri: str) -> DeltaTable:
    table = _load(uri)
    if table is None:
        raise LakeError(f"{uri}: no Delta table there")
    return table


def _partition_columns(table: DeltaTable, partition_by: list[str] | None, uri: str) -> list[str]:
    existing = list(table.metadata().partition_columns)
    if partition_by is not None and list(partition_by) != existing:
        raise LakeError(f"{uri}: the table is partitioned by {existing}, not {list(partition_by)}")
    return existing


def _committed_version(location: str, write_id: str) -> int:
    """The version our commit got: the one whose commit info carries our write id (other writers
    may have committed since, so the latest version is not necessarily ours)."""
    table = DeltaTable(location)
    for limit in (RECENT_COMMITS, None):
        for entry in table.history(limit):
            if write_id_of(entry.get("userMetadata")) == write_id:
                return entry["version"]
    raise RuntimeError(f"{location}: the commit of write {write_id} is not in the log")
