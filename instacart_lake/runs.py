"""Run records: what a pipeline run did, per stage and table, kept in the lake's metadata.

`lake status --json` prints the latest record.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field

from instacart_lake import storage
from instacart_lake.context import Lake


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class StageRecord:
    """One stage of a run: the job run that ran it (its id, state, start, end and the event
    that started it), then its results. `tables` maps a table to its counts (rows_read,
    rows_written, rows_rejected, ...); `details` holds what else the stage reports (quality
    results, metrics); `next_step` what the handler of its end event did."""

    stage: str
    outcome: str = "running"
    started_at: str = field(default_factory=utc_now)
    seconds: float = 0.0
    tables: dict[str, dict] = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    error: str | None = None
    job_run_id: str | None = None
    state: str | None = None
    finished_at: str | None = None
    started_by: str | None = None
    next_step: dict | None = None


@dataclass
class RunRecord:
    run_id: str
    source: str | None = None
    started_at: str = field(default_factory=utc_now)
    finished_at: str | None = None
    outcome: str = "running"
    stages: list[StageRecord] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RunRecord":
        stages = [StageRecord(**stage) for stage in data.pop("stages", [])]
        return cls(**data, stages=stages)


def save_run(lake: Lake, record: RunRecord) -> None:
    """Write the record under its run id and as the latest run."""
    text = json.dumps(record.to_dict(), indent=2, sort_keys=True)
    storage.write_text_atomic(f"{lake.locations.runs_uri}/{record.run_id}.json", text)
    storage.write_text_atomic(f"{lake.locations.runs_uri}/latest.json", text)


def load_latest_run(lake: Lake) -> RunRecord | None:
    uri = f"{lake.locations.runs_uri}/latest.json"
    if not storage.exists(uri):
        return None
    return RunRecord.from_dict(json.loads(storage.read_text(uri)))
