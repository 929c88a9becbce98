"""The runs of a lake as `lake alarms` and `lake report` see them: each run record with the
metrics its job runs emitted (instacart_lake.monitoring), oldest first."""

from __future__ import annotations

import json
from dataclasses import dataclass

from instacart_lake import storage
from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.monitoring import read_emf_lines
from instacart_lake.runs import RunRecord

LATEST = "latest.json"


@dataclass(frozen=True)
class RunView:
    record: RunRecord
    metrics: tuple[dict, ...]
    """The EMF records of the run and of each of its job runs."""


def metric_keys(record: RunRecord) -> list[str]:
    """The ids the run's metrics are kept under: the run's own (its ingest, the event of its
    batch) and each stage's job run."""
    keys = [record.run_id, *(stage.job_run_id for stage in record.stages if stage.job_run_id)]
    return list(dict.fromkeys(keys))


def load_run_records(lake: Lake) -> list[RunRecord]:
    """Every recorded run, oldest first."""
    uri = lake.locations.runs_uri
    if not storage.exists(uri):
        return []
    records = []
    for file_uri in storage.list_files(uri, recursive=False):
        name = file_uri.rsplit("/", 1)[-1]
        if name.endswith(".json") and name != LATEST:
            try:
                records.append(RunRecord.from_dict(json.loads(storage.read_text(file_uri))))
            except (json.JSONDecodeError, TypeError) as error:
                raise LakeError(f"{file_uri}: not a run record ({error})") from error
    return sorted(records, key=lambda record: (record.started_at, record.run_id))


def load_history(lake: Lake, run_id: str | None = None, last: int | None = None) -> list[RunView]:
    """The runs up to `run_id` (the latest when None), the `last` of them when given."""
    records = load_run_records(lake)
    if not records:
        raise LakeError(f"no run recorded in {lake.locations.runs_uri} yet (run `lake run` first)")
    if run_id is not None:
        ids = [record.run_id for record in records]
        if run_id not in ids:
            raise LakeError(f"no run {run_id} in {lake.locations.runs_uri} (recorded: {', '.join(ids[-5:])}"
                            f"{' ...' if len(ids) > 5 else ''})")
        records = records[:ids.index(run_id) + 1]
    if last is not None:
        records = records[-last:]
    return [RunView(record, tuple(line for key in metric_keys(record) for line in read_emf_lines(lake, key)))
            for record in records]
