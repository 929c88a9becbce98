"""The lake's Delta tables, through the Delta Spark extension as Glue 5.0 runs it
(`--datalake-formats delta`; locally the same jars and settings, see runtime.py).

Every write commits one new version and returns it; each commit's `userMetadata` records the
job run that made it (see commit_info.py), and the version a commit got is found by its write
id, since other writers may have committed since. Nothing a write does is visible before its
commit: a job killed earlier leaves the table at its previous version. The data files such a
write had left in the table's folder are removed before the next commit to the table by a
later job (instacart_lake.leftovers), and by `vacuum` once older than the retention.

Every commit passes the failpoints delta.commit.before, delta.write.files (writes) and
delta.commit.after, each also as `<point>:<table>` (instacart_lake.failpoints).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any, Literal

from delta.tables import DeltaTable
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.utils import CapturedException

from instacart_lake import failpoints
from instacart_lake.delta.commit_info import WriteMode, history_entry, new_write_id, user_metadata
from instacart_lake.delta.paths import hadoop_location
from instacart_lake.delta.spark_conf import session_conf
from instacart_lake.delta.table_schema import conform
from instacart_lake.errors import LakeError
from instacart_lake.leftovers import remove_orphaned_files
from instacart_lake.locations import uri_to_path

RECENT_COMMITS = 20
USER_METADATA_CONF = "spark.databricks.delta.commitInfo.userMetadata"
RETENTION_CHECK_CONF = "spark.databricks.delta.retentionDurationCheck.enabled"
MULTIPLE_MATCHES = "DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE"
COMMIT_BEFORE = "delta.commit.before"
COMMIT_AFTER = "delta.commit.after"
LOGGER = logging.getLogger(__name__)


class DeltaTableIO:
    """Reads and writes Delta tables at URIs (`file:///...` locally, `s3://...` on AWS)."""

    def __init__(self, spark: SparkSession):
        self.spark = spark
        self.started = dt.datetime.now(dt.timezone.utc)
        self._cleared: set[str] = set()

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
        remove_partitions: Sequence[str] = (),
    ) -> int:
        """Create, append to or overwrite the table; with `replace_partitions` (mode overwrite)
        only the partitions present in `df` are replaced, and the partitions whose (string)
        partition column has a value of `remove_partitions` are removed in the same commit. An
        overwrite may change the schema and the partitioning; an append must match the table's
        columns (types are cast)."""
        if mode not in ("overwrite", "append"):
            raise ValueError(f"mode must be 'overwrite' or 'append', not {mode!r}")
        if replace_partitions and mode != "overwrite":
            raise ValueError("replace_partitions=True needs mode='overwrite'")
        if remove_partitions and not replace_partitions:
            raise ValueError("remove_partitions needs replace_partitions=True")
        write_mode: WriteMode = "replace_partitions" if replace_partitions else mode
        self._before_commit(uri)
        path = hadoop_location(uri)
        exists = self.exists(uri)
        if exists and write_mode != "overwrite":
            existing = self._partition_columns(path)
            if partition_by is not None and list(partition_by) != existing:
                raise LakeError(f"{uri}: the table is partitioned by {existing}, not {list(partition_by)}")
            if replace_partitions and not existing:
                raise LakeError(f"{uri}: replace_partitions needs a partitioned table")
            df = conform(df, self.spark.read.format("delta").load(path).schema, uri)
            partition_by = existing
        replace_where = None
        if exists and remove_partitions:
            replace_where = _partition_predicate(df, partition_by or [], remove_partitions, uri)
        return self._save(df, uri, mode, write_mode, run_id, job_name, partition_by, replace_where)

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
        """Upsert with MERGE INTO: rows of `df` replace the table's rows with the same key, the
        others are added. Keys compare with `=`, so a row with a null key never replaces one.
        The keys of `df` must be unique (the quality gates check it); a key of `df` that repeats
        and matches a table row is refused and nothing is committed. A merge into no table
        creates it with every row, as MERGE would insert them, in one write."""
        missing = [key for key in keys if key not in df.columns]
        if not keys or missing:
            raise LakeError(f"{uri}: merge keys {keys} must be columns of the data (missing: {missing})")
        self._before_commit(uri)
        path = hadoop_location(uri)
        if not self.exists(uri):
            return self._save(df, uri, "append", "merge_by_key", run_id, job_name, partition_by)
        existing = self._partition_columns(path)
        if partition_by is not None and list(partition_by) != existing:
            raise LakeError(f"{uri}: the table is partitioned by {existing}, not {list(partition_by)}")
        target = DeltaTable.forPath(self.spark, path)
        source = conform(df, target.toDF().schema, uri)
        write_id = new_write_id()
        condition = " AND ".join(f"target.`{key}` = source.`{key}`" for key in keys)
        merge = (
            target.alias("target")
            .merge(source.alias("source"), condition)
            .whenMatchedUpdateAll()
            .whenNotMatchedInsertAll()
        )
        with session_conf(self.spark, USER_METADATA_CONF, user_metadata(run_id, job_name, "merge_by_key", write_id)):
            try:
                merge.execute()
            except CapturedException as error:
                if MULTIPLE_MATCHES in str(error):
                    raise LakeError(f"{uri}: the merge data repeat keys {keys} that the table has; "
                                    "nothing was committed") from None
                raise
        failpoints.reach(COMMIT_AFTER, _table_name(uri))
        return self._committed_version(path, write_id)

    def read(self, uri: str, version: int | None = None) -> DataFrame:
        """The current snapshot, or `version` (time travel)."""
        self._require(uri)
        path = hadoop_location(uri)
        if version is None:
            return self.spark.read.format("delta").load(path)
        latest = self.version(uri)
        if not 0 <= version <= latest:
            raise LakeError(f"{uri}: no version {version} (the latest is {latest})")
        try:
            return self.spark.read.format("delta").option("versionAsOf", version).load(path)
        except AnalysisException as error:  # the version's log files are gone (log retention)
            raise LakeError(f"{uri}: version {version} can no longer be read: {error.getMessage()}") from None

    def version(self, uri: str) -> int | None:
        """The latest version, None when there is no table."""
        if not self.exists(uri):
            return None
        return DeltaTable.forPath(self.spark, hadoop_location(uri)).history(1).first()["version"]

    def history(self, uri: str) -> list[dict[str, Any]]:
        """Commits, newest first: version, timestamp, operation, write_mode, run_id, job_name,
        write_id, rows_written, operation_metrics."""
        self._require(uri)
        return [history_entry(*row) for row in self._history_rows(hadoop_location(uri), None)]

    def exists(self, uri: str) -> bool:
        """Whether a Delta table is at `uri`."""
        return DeltaTable.isDeltaTable(self.spark, hadoop_location(uri))

    def vacuum(self, uri: str, retain: dt.timedelta, dry_run: bool = False) -> list[str]:
        """Delete the files that no version younger than `retain` reads, and the files of writes
        that never committed once older than `retain`; the paths deleted (with `dry_run`, that
        would be). A retention shorter than Delta's 7-day default is the caller's explicit choice."""
        self._require(uri)
        statement = f"VACUUM delta.`{hadoop_location(uri)}` RETAIN {retain.total_seconds() / 3600} HOURS"
        with session_conf(self.spark, RETENTION_CHECK_CONF, "false"):
            doomed = [row["path"] for row in self.spark.sql(f"{statement} DRY RUN").collect()]
            if doomed and not dry_run:
                self.spark.sql(statement).collect()
        return doomed

    def _before_commit(self, uri: str) -> None:
        """The failpoint before a commit, and the first time this job commits to the table,
        the removal of the files that killed writes left in its folder."""
        failpoints.reach(COMMIT_BEFORE, _table_name(uri))
        if uri in self._cleared:
            return
        self._cleared.add(uri)
        removed = remove_orphaned_files(uri, self.started)
        if removed.files:
            LOGGER.info("%s: removed %s that killed writes left", uri, removed.summary())

    def _require(self, uri: str) -> None:
        if not self.exists(uri):
            raise LakeError(f"{uri}: no Delta table there")

    def _partition_columns(self, path: str) -> list[str]:
        return list(self.spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()["partitionColumns"])

    def _save(
        self,
        df: DataFrame,
        uri: str,
        mode: str,
        write_mode: WriteMode,
        run_id: str,
        job_name: str,
        partition_by: list[str] | None,
        replace_where: str | None = None,
    ) -> int:
        path = hadoop_location(uri)
        missing = [name for name in partition_by or [] if name not in df.columns]
        if missing:
            raise LakeError(f"{path}: partition columns {missing} are not columns of the data")
        if failpoints.triggered(failpoints.WRITE_FILES, _table_name(uri)):
            df = _dying_after_data_files(df, uri)
        write_id = new_write_id()
        writer = df.write.format("delta").mode(mode).option(
            "userMetadata", user_metadata(run_id, job_name, write_mode, write_id)
        )
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        if replace_where is not None:
            writer = writer.option("partitionOverwriteMode", "static").option("replaceWhere", replace_where)
        elif write_mode == "replace_partitions":
            writer = writer.option("partitionOverwriteMode", "dynamic")
        elif write_mode == "overwrite":
            # static even where the session sets dynamic partition overwrite, which Delta honours
            writer = writer.option("partitionOverwriteMode", "static").option("overwriteSchema", "true")
        writer.save(path)
        failpoints.reach(COMMIT_AFTER, _table_name(uri))
        return self._committed_version(path, write_id)

    def _committed_version(self, path: str, write_id: str) -> int:
        for limit in (RECENT_COMMITS, None):
            for row in self._history_rows(path, limit):
                entry = history_entry(*row)
                if entry["write_id"] == write_id:
                    return entry["version"]
        raise RuntimeError(f"{path}: the commit of write {write_id} is not in the history")

    def _history_rows(self, path: str, limit: int | None) -> list[tuple]:
        history = DeltaTable.forPath(self.spark, path).history(limit)
        rows = history.select(
            "version", F.unix_millis("timestamp"), "operation", "userMetadata", "operationMetrics"
        ).collect()
        return [tuple(row) for row in rows]


def _table_name(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def _dying_after_data_files(df: DataFrame, uri: str) -> DataFrame:
    """`df` passed through a Spark task that kills the pipeline once the write's first data
    file is in the table's folder (the failpoint delta.write.files; local tables only)."""
    folder = uri_to_path(uri)
    existing = frozenset(failpoints.data_files(folder))
    return df.mapInArrow(failpoints.die_after_data_files(folder, existing, failpoints.process_groups()), df.schema)


def _partition_predicate(df: DataFrame, partition_by: list[str], removed: Sequence[str], uri: str) -> str:
    """The replaceWhere predicate that selects the partitions of `df` and the `removed` ones."""
    if len(partition_by) != 1:
        raise LakeError(f"{uri}: remove_partitions needs a table partitioned by one column, not {partition_by}")
    column = partition_by[0]
    present = [row[0] for row in df.select(column).distinct().collect()]
    values = ", ".join("'" + str(value).replace("'", "''") + "'" for value in sorted({*present, *removed}))
    return f"`{column}` IN ({values})"
