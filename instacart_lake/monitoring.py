"""CloudWatch metrics as Embedded Metric Format (EMF) lines: one JSON object per table and
run that CloudWatch turns into metrics when it reads the log. Locally the lines go to the
run log in the lake's metadata (`runs/<run id>.emf.jsonl`); on AWS to the job's log stream."""

from __future__ import annotations

import json
import time

from instacart_lake import storage
from instacart_lake.context import Lake

NAMESPACE = "InstacartLake"
DIMENSIONS = ("JobName", "TableName")


def emf_record(job_name: str, table: str, metrics: dict[str, float], run_id: str,
               timestamp_ms: int | None = None) -> dict:
    """The EMF object for one table's metrics (all unit Count except names ending in Score,
    Seconds or Ratio)."""
    return {
        "_aws": {
            "Timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [list(DIMENSIONS)],
                "Metrics": [{"Name": name, "Unit": _unit(name)} for name in metrics],
            }],
        },
        "JobName": job_name,
        "TableName": table,
        "JobRunId": run_id,
        **metrics,
    }


def _unit(name: str) -> str:
    if name.endswith("Seconds"):
        return "Seconds"
    if name.endswith(("Score", "Ratio")):
        return "None"
    return "Count"


def write_emf_lines(lake: Lake, run_id: str, records: list[dict]) -> str:
    """Append EMF records to the run's log; returns the log's URI."""
    uri = f"{lake.locations.runs_uri}/{run_id}.emf.jsonl"
    previous = storage.read_text(uri) if storage.exists(uri) else ""
    lines = "".join(json.dumps(record, sort_keys=True) + "\n" for record in records)
    storage.write_text_atomic(uri, previous + lines)
    return uri
