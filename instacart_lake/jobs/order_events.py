"""Job 1's order events: the delivered event files not yet in the ledger, checked against the
clean tables of the run (instacart_lake.transforms.order_events), their rows for the clean
tables, and the commit of their quarantine, counts and ledger records.

Every event ends in one place (clean, quarantined or dropped as an exact duplicate); the
counts are reconciled before the files are recorded in the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from instacart_lake import storage
from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.jobs.raw_lines import read_raw_lines
from instacart_lake.ledger import Ledger
from instacart_lake.registration import register_delta_table
from instacart_lake.runs import utc_now
from instacart_lake.schemas import ORDER_EVENT, SOURCE_TABLES, SourceTable
from instacart_lake.stream.layout import GZIP_EXTENSION
from instacart_lake.stream.settings import load_stream_settings
from instacart_lake.transforms.order_events import (
    check_events,
    event_lines,
    event_orders,
    order_contents,
    parse_events,
    quarantined_events,
)
from instacart_lake.transforms.raw_to_clean import CLEAN, DROPPED, QUARANTINED, quarantine_rows

QUARANTINE_KEY = ["source_file", "line_number"]


class EventAccountingMismatch(LakeError):
    """Delivered events do not equal clean + quarantined + dropped duplicates."""


@dataclass
class EventRun:
    files: list[str]
    checked: DataFrame
    events: int = 0
    clean_events: int = 0
    quarantined_events: int = 0
    dropped_duplicates: int = 0

    def counts(self) -> dict:
        return {"files": len(self.files), "events": self.events, "clean_events": self.clean_events,
                "quarantined_events": self.quarantined_events, "dropped_duplicates": self.dropped_duplicates}

    def rows_for(self, table: SourceTable) -> DataFrame | None:
        """The clean rows that the run's clean events add to `table` (None: it takes none)."""
        if table.name == ORDER_EVENT.order_table:
            return event_orders(self.checked)
        if table.order_eval_set is not None:
            return event_lines(self.checked, table)
        return None


def pending_event_files(lake: Lake, ledger: Ledger) -> list[str]:
    folder = lake.locations.table_uri("raw", load_stream_settings().prefix_root)
    return ledger.pending([uri for uri in storage.list_files(folder) if uri.endswith(GZIP_EXTENSION)])


def prepare_order_events(spark: SparkSession, lake: Lake, ledger: Ledger, products: DataFrame | None,
                         clean_tables: dict[str, DataFrame | None]) -> EventRun | None:
    """Check the pending event files against the run's clean `products` and would-be clean
    tables (`clean_tables`, by name); None when no event file is pending.

    The parsed events are materialized once, so Python parses each line once and no later
    join, filter or window runs with a Python worker below it: the thread that feeds a
    Python worker crashed the JVM under such a plan in the test suite. The events' order ids
    pick the clean orders that an event could repeat."""
    files = pending_event_files(lake, ledger)
    if not files:
        return None
    if products is None:
        raise LakeError("order events: no clean products table to check their products against; "
                        "ingest products.csv first")
    events = parse_events(read_raw_lines(spark, files, has_header=False)).localCheckpoint(eager=True)
    orders = clean_tables.get(ORDER_EVENT.order_table)
    known = None
    if orders is not None:
        order_ids = events.select("order_id").where(F.col("order_id").isNotNull()).distinct()
        line_tables = [clean for name, clean in clean_tables.items()
                       if clean is not None and SOURCE_TABLES[name].order_eval_set is not None]
        known = order_contents(orders, line_tables, order_ids)
    checked = check_events(events, products, known).persist(StorageLevel.MEMORY_AND_DISK)
    counts = {row.disposition: row["count"] for row in checked.groupBy("disposition").count().collect()}
    return EventRun(files, checked, events=sum(counts.values()), clean_events=counts.get(CLEAN, 0),
                    quarantined_events=counts.get(QUARANTINED, 0), dropped_duplicates=counts.get(DROPPED, 0))


def commit_order_events(run: EventRun, lake: Lake, table_io, ledger: Ledger, run_id: str, job_name: str) -> None:
    """After the clean tables took the events' rows: their quarantine, then the ledger."""
    if run.events != run.clean_events + run.quarantined_events + run.dropped_duplicates:
        raise EventAccountingMismatch(
            f"order events: {run.events:,} delivered != {run.clean_events:,} clean + {run.quarantined_events:,} "
            f"quarantined + {run.dropped_duplicates:,} dropped")
    quarantine_uri = lake.locations.quarantine_table_uri(ORDER_EVENT.name)
    quarantined = (
        quarantine_rows(quarantined_events(run.checked))
        .withColumn("run_id", F.lit(run_id))
        .withColumn("quarantined_at", F.lit(utc_now()).cast("timestamp"))
    )
    if run.quarantined_events or table_io.exists(quarantine_uri):
        table_io.merge_by_key(quarantined, quarantine_uri, keys=QUARANTINE_KEY, run_id=run_id, job_name=job_name)
        register_delta_table(lake, "clean", f"{ORDER_EVENT.name}_quarantine", quarantined.schema,
                             "one row per rejected delivered order event")
    ledger.record(run.files, ORDER_EVENT.name, run_id)
