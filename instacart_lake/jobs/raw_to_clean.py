"""Job 1, raw to clean: the orchestration of one run over the six source tables.

Three phases, so that a count mismatch or a failed quality gate commits nothing to the clean
tables:
1. prepare: for each table (in foreign-key order) read the pending raw files, parse,
   validate and assign every line a disposition; the would-be clean table (existing rows
   merged with the new ones by key) is what later tables check their foreign keys against;
2. reconcile and gate: check every table's counts against the ingest manifest, then
   evaluate each table's DQDL ruleset on its would-be clean table; a mismatch, or a failing
   rule with the stop action, raises;
3. commit: per table, merge the clean rows and the quarantine by key, register both in the
   catalog, and only then record the files in the ledger.
Between 1 and 2, the pending order events that the stream delivered
(instacart_lake.jobs.order_events) are checked against the would-be clean tables, and their
clean rows join those of orders and order_products__prior/__train; their quarantine and
ledger records are committed after the tables.

Pending files that hold a header and no record (a header-only landing) cost one emptiness
check: nothing is counted or cached, the would-be clean table is the clean table as it is
(the files are recorded in the ledger, and no commit is made), and on a table's first run it
is empty, so the gate stops on the rules that need rows, one line each.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import reduce
from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from instacart_lake import failpoints
from instacart_lake.context import Lake
from instacart_lake.delta import DeltaTableIO
from instacart_lake.delta.spark_conf import session_conf
from instacart_lake.dq import RulesetResult
from instacart_lake.errors import LakeError, QualityGateFailed
from instacart_lake.ingest import landed_files, read_manifest
from instacart_lake.jobs.order_events import EventRun, commit_order_events, prepare_order_events
from instacart_lake.jobs.phases import PhaseClock
from instacart_lake.jobs.quality_gate import (
    RULESETS_DIR,
    evaluate_gate,
    gate_failure,
    rule_outcomes,
    stop_failures,
)
from instacart_lake.jobs.raw_lines import read_csv_records
from instacart_lake.ledger import Ledger
from instacart_lake.registration import register_delta_table
from instacart_lake.runs import utc_now
from instacart_lake.schemas import SOURCE_TABLES, SourceTable
from instacart_lake.transforms.order_contract import last_order_reasons
from instacart_lake.transforms.raw_to_clean import (
    BROADCAST_KEYS,
    CLEAN,
    DROPPED,
    LINE_COLUMNS,
    QUARANTINED,
    assign_disposition,
    clean_rows,
    foreign_key_reasons,
    mark_duplicates,
    parse_lines,
    quarantine_rows,
    without_raw_lines_of_valid_rows,
)

JOB_NAME = "raw_to_clean"
QUARANTINE_KEY = list(LINE_COLUMNS)


def _referenced_columns() -> dict[str, tuple[str, ...]]:
    """What other tables' foreign keys (and the order-line eval_set rule) read of a table."""
    columns: dict[str, dict[str, None]] = {}
    for table in SOURCE_TABLES.values():
        for foreign_key in table.foreign_keys:
            read = columns.setdefault(foreign_key.table, {})
            read[foreign_key.referenced_column] = None
            if table.order_eval_set is not None and foreign_key.table == "orders":
                read["eval_set"] = None
    return {name: tuple(read) for name, read in columns.items()}


REFERENCED_COLUMNS = _referenced_columns()

log = logging.getLogger(__name__)


class GateStopped(QualityGateFailed):
    """A stop rule failed; carries what the run measured, for the run record."""

    def __init__(self, message: str, table_runs: list["TableRun"]):
        super().__init__(message)
        self.table_runs = table_runs


class AccountingMismatch(LakeError):
    """Raw lines do not equal clean rows + quarantined lines + dropped duplicates."""


@dataclass
class TableRun:
    """What job 1 did with one table in one run."""

    table: SourceTable
    files: list[str]
    raw_lines: int = 0
    clean_rows: int = 0
    quarantined_lines: int = 0
    dropped_duplicates: int = 0
    quarantine_reasons: dict[str, int] | None = None
    """Quarantined lines per reason code (a line with two reasons counts under both)."""
    quality: RulesetResult | None = None
    clean_version: int | None = None
    outcome: DataFrame | None = None
    """Every record with its disposition: a projection of `checked`, which is cached, and
    the raw line of each quarantined record (read again for those `checked` has none of)."""
    checked: DataFrame | None = None
    would_be_clean: DataFrame | None = None
    event_rows: DataFrame | None = None
    """The clean rows of this run's order events for this table (instacart_lake.jobs.order_events)."""
    event_row_count: int = 0
    events: dict | None = None
    """The order events' counts, on the orders table's run."""
    phase_seconds: dict[str, float] | None = None
    """Seconds per phase (prepare, gate, commit): where the run's time went."""

    @property
    def changed(self) -> bool:
        return bool(self.files) or self.event_rows is not None

    def counts(self) -> dict:
        return {
            "files": len(self.files),
            "raw_lines": self.raw_lines,
            "clean_rows": self.clean_rows,
            "quarantined_lines": self.quarantined_lines,
            "dropped_duplicates": self.dropped_duplicates,
            "quarantine_reasons": self.quarantine_reasons or {},
            "rows_read": self.raw_lines,
            "rows_written": self.clean_rows + self.event_row_count,
            "event_rows": self.event_row_count,
            "events": self.events or {},
            "rows_rejected": self.quarantined_lines,
            "clean_version": self.clean_version,
            "quality_score": None if self.quality is None else self.quality.score,
            "rules": rule_outcomes(self.quality),
            "phase_seconds": self.phase_seconds or {},
        }


CACHE_COMPRESSION = "spark.sql.inMemoryColumnarStorage.compressed"


def run_raw_to_clean(spark: SparkSession, lake: Lake, run_id: str,
                     rulesets_dir: Path = RULESETS_DIR / "clean") -> list[TableRun]:
    """Process the raw files not yet in the ledger; returns one TableRun per source table.
    `rulesets_dir` holds one `<table>.dqdl` per source table.

    The run's caches are not compressed: each is read a few times and dropped at the end of
    the run, and compressing the checked records (mostly distinct numbers and lines) costs
    more time than their reads save (10 s of 55 s for the 32 M prior lines)."""
    with session_conf(spark, CACHE_COMPRESSION, "false"):
        return _run(spark, lake, run_id, rulesets_dir)


def _run(spark: SparkSession, lake: Lake, run_id: str, rulesets_dir: Path) -> list[TableRun]:
    table_io = DeltaTableIO(spark)
    locations = lake.locations
    ledger = Ledger(locations.ledger_uri(JOB_NAME), locations.zone_uri("raw"))
    landings = {landing.uri: landing for landing in read_manifest(lake)}
    runs: list[TableRun] = []
    referenced: dict[str, DataFrame] = {}
    rejected_keys: dict[str, DataFrame] = {}
    clean_tables: dict[str, DataFrame | None] = {}
    events: EventRun | None = None
    clock = PhaseClock(spark, JOB_NAME)
    try:
        for table in SOURCE_TABLES.values():
            run = TableRun(table, ledger.pending(landed_files(lake, table)))
            existing = _read_if_exists(table_io, locations.table_uri("clean", table.name))
            if run.files:
                versions = {uri: landings[uri].version for uri in run.files if uri in landings}
                with clock.phase(table.name, "prepare"):
                    _prepare(spark, run, versions, referenced, rejected_keys, existing)
            clean = run.would_be_clean if run.files else existing
            if clean is not None and REFERENCED_COLUMNS.get(table.name):
                referenced[table.name] = _key_frame(clean, REFERENCED_COLUMNS[table.name])
            clean_tables[table.name] = clean
            runs.append(run)
        events = prepare_order_events(spark, lake, ledger, referenced.get("products"), clean_tables)
        if events is not None:
            for run in runs:
                _add_event_rows(run, events, clean_tables[run.table.name], referenced)
        _reconcile(runs, landings)
        _gate(spark, runs, referenced, run_id, lake, table_io, rulesets_dir, clock)
        for run in runs:
            if run.changed:
                with clock.phase(run.table.name, "commit"):
                    _commit(run, lake, table_io, ledger, run_id)
        if events is not None:
            commit_order_events(events, lake, table_io, ledger, run_id, JOB_NAME)
    finally:
        for run in runs:
            run.phase_seconds = clock.of(run.table.name)
            if run.checked is not None:
                run.checked.unpersist()
        if events is not None:
            events.checked.unpersist()
    return runs


def _add_event_rows(run: TableRun, events: EventRun, clean: DataFrame | None,
                    referenced: dict[str, DataFrame]) -> None:
    """Add the clean rows of the run's order events to a table's would-be clean rows (no key
    is taken twice: an event for an order already there was dropped or quarantined)."""
    rows = events.rows_for(run.table)
    if run.table.name == "orders":
        run.events = events.counts()
    if rows is None:
        return
    run.event_rows = rows.localCheckpoint(eager=True)
    run.event_row_count = run.event_rows.count()
    run.would_be_clean = run.event_rows if clean is None else clean.unionByName(run.event_rows)
    if REFERENCED_COLUMNS.get(run.table.name):
        referenced[run.table.name] = _key_frame(run.would_be_clean, REFERENCED_COLUMNS[run.table.name])


def _read_if_exists(table_io, uri: str) -> DataFrame | None:
    return table_io.read(uri) if table_io.exists(uri) else None


def _key_frame(frame: DataFrame, columns: tuple[str, ...]) -> DataFrame:
    """The columns other tables' foreign keys check, computed once and cut from their
    lineage: each table's plan would otherwise carry the plans of every table it references,
    and those of theirs, growing with each table of the run."""
    return frame.select(*columns).localCheckpoint(eager=True)


def _prepare(spark, run: TableRun, versions: dict[str, int], referenced: dict[str, DataFrame],
             rejected_keys: dict[str, DataFrame], existing: DataFrame | None) -> None:
    """Parse and check the pending files of one table; count the dispositions, and set the
    would-be clean table and this run's rejected keys. The checked records are cached once:
    the outcome, and every pass over it (counts, gate, commits), is a projection of them
    (with a broadcast join to the few repeated keys, when there are any, and one to the raw
    lines read again of the records they send to the quarantine)."""
    table = run.table
    records = read_csv_records(spark, run.files)
    parsed = parse_lines(records, table)
    parents = {fk.table for fk in table.foreign_keys}
    missing = sorted(name for name in parents if name not in referenced)
    if missing:
        raise LakeError(f"{table.name}: no clean {', '.join(missing)} table to check foreign keys against; "
                        f"ingest {', '.join(f'{name}.csv' for name in missing)} first")
    checked = foreign_key_reasons(
        parsed, table, {name: referenced[name] for name in parents},
        {name: rejected_keys[name] for name in parents if name in rejected_keys},
    )
    if parsed.isEmpty():
        _prepare_no_records(run, assign_disposition(mark_duplicates(checked, table, versions)), existing)
        return
    run.checked = without_raw_lines_of_valid_rows(checked).persist(StorageLevel.MEMORY_AND_DISK)
    marked = mark_duplicates(run.checked, table, versions)
    if table.name == "orders":
        marked = last_order_reasons(marked, existing)
    run.outcome = assign_disposition(marked)
    counts, run.quarantine_reasons, lines_to_read = _disposition_counts(run.outcome)
    if lines_to_read:
        run.outcome = _with_raw_lines_read_again(run.outcome, records, lines_to_read)
    run.clean_rows = counts.get(CLEAN, 0)
    run.quarantined_lines = counts.get(QUARANTINED, 0)
    run.dropped_duplicates = counts.get(DROPPED, 0)
    run.raw_lines = sum(counts.values())
    new_clean = clean_rows(run.outcome.where(F.col("disposition") == CLEAN), table)
    if REFERENCED_COLUMNS.get(table.name):
        rejected_keys[table.name] = _key_frame(run.outcome.where(F.col("disposition") == QUARANTINED),
                                               table.primary_key)
    run.would_be_clean = new_clean if existing is None else (
        existing.join(new_clean.select(*table.primary_key), on=list(table.primary_key), how="left_anti")
        .unionByName(new_clean)
    )


def _disposition_counts(outcome: DataFrame) -> tuple[dict[str, int], dict[str, int], int]:
    """Records per disposition, quarantined records per reason (a record with two reasons
    counts under both), and quarantined records whose raw line was not kept, in one pass:
    each quarantined record is exploded into its reasons, and only its first counts as the
    record."""
    is_quarantined = F.col("disposition") == QUARANTINED
    reasons = F.posexplode_outer(F.when(is_quarantined, F.col("reasons")))
    first = F.col("position").isNull() | (F.col("position") == 0)
    no_line = first & is_quarantined & F.col("value").isNull()
    rows = (outcome.select("disposition", "value", reasons.alias("position", "reason"))
            .groupBy("disposition", "reason")
            .agg(F.count(F.when(first, 1)).alias("records"), F.count(F.lit(1)).alias("reasons"),
                 F.count(F.when(no_line, 1)).alias("without_line")).collect())
    records: dict[str, int] = {}
    for row in rows:
        records[row.disposition] = records.get(row.disposition, 0) + row.records
    return (records, {row.reason: row.reasons for row in rows if row.reason is not None},
            sum(row.without_line for row in rows))


def _with_raw_lines_read_again(outcome: DataFrame, records: DataFrame, count: int) -> DataFrame:
    """The outcome with the raw lines of the `count` quarantined records that had none (see
    without_raw_lines_of_valid_rows), read again from their files and joined by line."""
    wanted = (outcome.where((F.col("disposition") == QUARANTINED) & F.col("value").isNull())
              .select(*LINE_COLUMNS).localCheckpoint(eager=True))
    few = count <= BROADCAST_KEYS
    read = (records.join(F.broadcast(wanted) if few else wanted, on=list(LINE_COLUMNS), how="inner")
            .select(*LINE_COLUMNS, F.col("value").alias("_read_again")).localCheckpoint(eager=True))
    return (outcome.join(F.broadcast(read) if few else read, on=list(LINE_COLUMNS), how="left")
            .withColumn("value", F.coalesce(F.col("value"), F.col("_read_again")))
            .select(*outcome.columns))


def _prepare_no_records(run: TableRun, outcome: DataFrame, existing: DataFrame | None) -> None:
    """Pending files with a header and no record (a header-only landing) add nothing: no
    counting or caching pass is made, and the would-be clean table is the clean table as it
    is, or an empty one before the table's first run (whose gate then fails on its rules
    that need rows)."""
    run.outcome = outcome
    run.quarantine_reasons = {}
    run.would_be_clean = existing if existing is not None else clean_rows(outcome, run.table)


def _reconcile(runs: list[TableRun], landings: dict) -> None:
    """Check the counts of every table before any commits, so a mismatch commits nothing:
    each record read has one disposition, and each file's records are as many as the ingest
    manifest counted (ingest counts them by the definition job 1 reads them by,
    instacart_lake.csv_records)."""
    for run in runs:
        if not run.files:
            continue
        table = run.table
        if run.raw_lines != run.clean_rows + run.quarantined_lines + run.dropped_duplicates:
            raise AccountingMismatch(f"{table.name}: {run.raw_lines:,} raw lines != {run.clean_rows:,} clean "
                                     f"+ {run.quarantined_lines:,} quarantined + {run.dropped_duplicates:,} dropped")
        expected = sum(landings[uri].row_count for uri in run.files if uri in landings)
        if all(uri in landings for uri in run.files) and expected != run.raw_lines:
            read = {row.source_file: row["count"] for row in run.outcome.groupBy("source_file").count().collect()}
            uri = next(uri for uri in run.files if read.get(uri, 0) != landings[uri].row_count)
            raise AccountingMismatch(
                f"{uri}: the ingest manifest counts {landings[uri].row_count:,} records, job 1 read "
                f"{read.get(uri, 0):,}; nothing committed")


def _gate(spark, runs: list[TableRun], references: dict[str, DataFrame], run_id: str, lake: Lake,
          table_io, rulesets_dir: Path, clock: PhaseClock) -> None:
    """Evaluate each changed table's ruleset on its would-be clean table (with the key
    columns of the others as references); a failed rule with the stop action stops the run
    here, before any commit."""
    changed = {run.table.name: run for run in runs if run.changed}
    results = evaluate_gate(spark, lake, table_io, JOB_NAME, run_id,
                            {name: run.would_be_clean for name, run in changed.items()},
                            rulesets_dir, references, clock)
    for name, result in results.items():
        changed[name].quality = result
    failed = stop_failures(results)
    if failed:
        raise GateStopped(gate_failure("data-quality gate failed, nothing committed to the clean tables",
                                       failed), runs)


def _commit(run: TableRun, lake: Lake, table_io, ledger: Ledger, run_id: str) -> None:
    table = run.table
    locations = lake.locations
    clean_uri = locations.table_uri("clean", table.name)
    batch_rows = [] if run.outcome is None else [clean_rows(run.outcome.where(F.col("disposition") == CLEAN), table)]
    event_rows = [] if run.event_rows is None else [run.event_rows]
    new_clean = reduce(DataFrame.unionByName, batch_rows + event_rows)
    if run.clean_rows or run.event_row_count or not table_io.exists(clean_uri):
        run.clean_version = table_io.merge_by_key(new_clean, clean_uri, keys=list(table.primary_key),
                                                  run_id=run_id, job_name=JOB_NAME)
    else:  # a MERGE of no rows makes no commit: the table stays at its version
        run.clean_version = table_io.version(clean_uri)
    register_delta_table(lake, "clean", table.name, table.spark_schema(), table.grain)
    if run.outcome is None:
        return
    quarantine_uri = locations.quarantine_table_uri(table.name)
    quarantined = (
        quarantine_rows(run.outcome.where(F.col("disposition") == QUARANTINED))
        .withColumn("run_id", F.lit(run_id))
        .withColumn("quarantined_at", F.lit(utc_now()).cast("timestamp"))
    )
    # The quarantine table exists from a table's first run, empty when nothing was rejected, so
    # queries across the quarantine (athena/quarantine_reasons_by_run.sql) read every table.
    if run.quarantined_lines or not table_io.exists(quarantine_uri):
        table_io.merge_by_key(quarantined, quarantine_uri, keys=QUARANTINE_KEY, run_id=run_id, job_name=JOB_NAME)
    register_delta_table(lake, "clean", f"{table.name}_quarantine", quarantined.schema,
                         f"one row per rejected raw line of {table.file_name}")
    failpoints.reach("raw_to_clean.after_commits", table.name)
    ledger.record(run.files, table.name, run_id)
