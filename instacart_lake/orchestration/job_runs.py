"""The local services' job runs, kept in the lake's meta folder (job_runs.json): every Glue job
run, crawler run and SageMaker job that a handler or `lake run --from` started, with its
arguments (the Glue arguments, or the SageMaker request), its state, when it started and
ended, its error, the id of the event whose handler started it, and what the job reported.

States are the service's own: Glue job runs STARTING, RUNNING, SUCCEEDED, FAILED; crawler
runs RUNNING, Succeeded, Failed; SageMaker jobs InProgress, Completed, Failed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from instacart_lake import storage
from instacart_lake.context import Lake
from instacart_lake.runs import utc_now

FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "Succeeded", "Failed", "Completed", "Stopped"})
SUCCESS_STATES = frozenset({"SUCCEEDED", "Succeeded", "Completed"})


@dataclass
class JobRun:
    run_id: str
    kind: str
    """glue_job, crawler, training_job or processing_job (the stage kinds of the definition)."""
    job: str
    arguments: dict[str, Any]
    state: str
    created_on: str = field(default_factory=utc_now)
    started_on: str | None = None
    completed_on: str | None = None
    error: str | None = None
    started_by: str | None = None
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def succeeded(self) -> bool:
        return self.state in SUCCESS_STATES


@dataclass(frozen=True)
class JobRunStore:
    lake: Lake

    @property
    def uri(self) -> str:
        return self.lake.locations.job_runs_uri

    def all(self) -> dict[str, JobRun]:
        if not storage.exists(self.uri):
            return {}
        return {run_id: JobRun(**record) for run_id, record in json.loads(storage.read_text(self.uri)).items()}

    def get(self, run_id: str) -> JobRun | None:
        return self.all().get(run_id)

    def find(self, kind: str, job: str) -> list[JobRun]:
        return [run for run in self.all().values() if run.kind == kind and run.job == job]

    def stop_unfinished(self, reason: str) -> list[JobRun]:
        """Stop the runs that no one runs any more (their `lake run` ended first); the stopped runs."""
        stopped = [run for run in self.all().values() if not run.finished]
        for run in stopped:
            run.state = "STOPPED" if run.kind == "glue_job" else "Stopped"
            run.error, run.completed_on = reason, utc_now()
            self.save(run)
        return stopped

    def save(self, run: JobRun) -> None:
        runs = self.all()
        runs[run.run_id] = run
        text = json.dumps({run_id: asdict(record) for run_id, record in runs.items()}, indent=1, sort_keys=True)
        storage.write_text_atomic(self.uri, text)
