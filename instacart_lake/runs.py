"""Run records: what a pipeline run did, per stage and table, kept in the lake's metadata.

`lake status --json` prints the latest record. A record names the process of its `lake run`
(PID and host) and is saved, with a new `updated_at`, after every job run: a record that says
`running` while that process is gone (or while another process holds the lake lock) is read
as `interrupted`, and the next `lake run` saves it so.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from dataclasses import asdict, dataclass, field

from instacart_lake import storage
from instacart_lake.context import Lake
from instacart_lake.lake_lock import Holder, current_holder


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
    """`outcome` is running, succeeded, failed or interrupted; `error` the one-line message of
    the error that ended a failed or interrupted run (a failed stage's own is in its stage)."""

    run_id: str
    source: str | None = None
    started_at: str = field(default_factory=utc_now)
    finished_at: str | None = None
    outcome: str = "running"
    stages: list[StageRecord] = field(default_factory=list)
    error: str | None = None
    pid: int | None = field(default_factory=os.getpid)
    host: str | None = field(default_factory=socket.gethostname)
    updated_at: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RunRecord":
        """The record as saved; one of a run whose process is gone reads as interrupted."""
        data = dict(data)
        stages = [StageRecord(**stage) for stage in data.pop("stages", [])]
        record = cls(**{"pid": None, "host": None, **data}, stages=stages)
        if record.outcome == "running" and not record.process_alive():
            record.mark_interrupted("the process of its `lake run` ended before it")
        return record

    def process_alive(self) -> bool:
        """Whether the `lake run` of this record may still be running: False when it ran on this
        host and its PID is gone (or the record names no process: it is older than PIDs were kept)."""
        if self.pid is None or self.host is None:
            return False
        return Holder(self.run_id, self.pid, self.host, "lake run", self.started_at).is_alive()

    def mark_interrupted(self, reason: str) -> None:
        """End the record as interrupted, with its unfinished stages."""
        self.outcome = "interrupted"
        self.error = self.error or reason
        for stage in self.stages:
            if stage.outcome == "running":
                stage.outcome = "interrupted"


def save_run(lake: Lake, record: RunRecord, heartbeat: bool = True) -> None:
    """Write the record under its run id and as the latest run; with `heartbeat` (its own run
    saving it), the time as its `updated_at`."""
    if heartbeat:
        record.updated_at = utc_now()
    text = json.dumps(record.to_dict(), indent=2, sort_keys=True)
    storage.write_text_atomic(f"{lake.locations.runs_uri}/{record.run_id}.json", text)
    storage.write_text_atomic(f"{lake.locations.runs_uri}/latest.json", text)


def _latest_saved(lake: Lake) -> dict | None:
    uri = f"{lake.locations.runs_uri}/latest.json"
    return json.loads(storage.read_text(uri)) if storage.exists(uri) else None


def load_latest_run(lake: Lake) -> RunRecord | None:
    """The latest record; one that says running while another process holds the lake lock reads
    as interrupted (its own process may live on another host, where its PID cannot be checked)."""
    saved = _latest_saved(lake)
    if saved is None:
        return None
    record = RunRecord.from_dict(saved)
    if record.outcome == "running":
        holder = current_holder(lake)
        if holder is not None and (holder.pid, holder.host) != (record.pid, record.host):
            record.mark_interrupted(f"the lake lock is held by {holder.describe()}, not by this run")
    return record


def mark_dead_run_interrupted(lake: Lake) -> RunRecord | None:
    """Save the latest run as interrupted when its record says running and its process is gone;
    the record so saved, if any. A run calls it before it starts."""
    saved = _latest_saved(lake)
    record = load_latest_run(lake)
    if saved is None or saved["outcome"] != "running" or record is None or record.outcome != "interrupted":
        return None
    save_run(lake, record, heartbeat=False)
    return record
