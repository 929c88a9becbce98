"""Run one job run of the job-run store the way its service runs it, then give the
state-change event that the service would send.

A Glue job run is its glue_jobs/ script in its own process, with Glue's arguments
(--JOB_NAME, --JOB_RUN_ID and the run's own) and the environment of this process (the lake's
LAKE_* settings); its output goes to a log in the lake's meta location, its error is the
exception that ended the script. A crawler run is the project's crawler. A SageMaker job is
its request run by the ML local runner (a subprocess of the script of ml/).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from instacart_lake import storage
from instacart_lake.context import Lake
from instacart_lake.crawler import crawl_raw_zone
from instacart_lake.errors import LakeError
from instacart_lake.jobs.job_results import read_job_results
from instacart_lake.ml.local_runner import LocalJobs
from instacart_lake.orchestration import events
from instacart_lake.orchestration.job_runs import JobRun, JobRunStore
from instacart_lake.orchestration.local_services import LOCAL_REGION, sagemaker_description
from instacart_lake.runs import utc_now

LOGGER = logging.getLogger(__name__)

GLUE_JOBS_DIR = Path(__file__).resolve().parents[2] / "glue_jobs"


def glue_job_command(run: JobRun) -> list[str]:
    arguments = [item for name, value in run.arguments.items() for item in (name, value)]
    return [sys.executable, str(GLUE_JOBS_DIR / f"{run.job}.py"), "--JOB_NAME", run.job,
            "--JOB_RUN_ID", run.run_id, *arguments]


def script_error(stderr: str, returncode: int) -> str:
    """The exception that ended a Python script, as `Type: message`, from its stderr."""
    lines = stderr.splitlines()
    starts = [index for index, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    if starts:
        for line in lines[starts[-1] + 1:]:
            if line and not line.startswith(" "):
                kind, separator, message = line.partition(": ")
                return f"{kind.rsplit('.', 1)[-1]}: {message}" if separator else kind.rsplit(".", 1)[-1]
    return f"the script exited with status {returncode}"


def _run_glue_job(lake: Lake, run: JobRun) -> dict[str, Any]:
    completed = subprocess.run(glue_job_command(run), capture_output=True, text=True, check=False)
    storage.write_text_atomic(lake.locations.meta_uri(f"job_logs/{run.run_id}.log"),
                              completed.stdout + completed.stderr)
    run.state = "SUCCEEDED" if completed.returncode == 0 else "FAILED"
    if completed.returncode != 0:
        run.error = script_error(completed.stderr, completed.returncode)
    run.results = read_job_results(lake, run.run_id)
    return events.glue_job_state_change(run.job, run.run_id, run.state, _region(lake), run.error)


def _run_crawler(lake: Lake, run: JobRun) -> dict[str, Any]:
    try:
        run.results = {"details": crawl_raw_zone(lake).to_dict()}
        run.state = "Succeeded"
    except LakeError as error:
        run.state, run.error = "Failed", str(error)
    return events.glue_crawler_state_change(run.job, run.state, _region(lake), run.error)


def _now_millis() -> int:
    return int(time.time() * 1000)


def _run_training_job(lake: Lake, run: JobRun) -> dict[str, Any]:
    started = _now_millis()
    try:
        model = LocalJobs().run_training(run.arguments)["ModelArtifacts"]
        run.state, run.results = "Completed", {"description": {"ModelArtifacts": model}}
    except LakeError as error:
        run.state, run.error = "Failed", str(error)
    run.results.setdefault("description", {}).update(
        {"TrainingStartTime": started, "TrainingEndTime": _now_millis(), "SecondaryStatus": run.state})
    return events.sagemaker_training_job_state_change(sagemaker_description(run), _region(lake))


def _run_processing_job(lake: Lake, run: JobRun) -> dict[str, Any]:
    started = _now_millis()
    try:
        LocalJobs().run_processing(run.arguments)
        run.state = "Completed"
    except LakeError as error:
        run.state, run.error = "Failed", str(error)
    run.results.setdefault("description", {}).update(
        {"ProcessingStartTime": started, "ProcessingEndTime": _now_millis()})
    return events.sagemaker_processing_job_state_change(sagemaker_description(run), _region(lake))


RUNNERS = {"glue_job": _run_glue_job, "crawler": _run_crawler,
           "training_job": _run_training_job, "processing_job": _run_processing_job}


def execute(lake: Lake, store: JobRunStore, run: JobRun) -> dict[str, Any]:
    """Run `run` to its end, keep its state in `store`; the state-change event of its end."""
    run.started_on = utc_now()
    run.state = {"glue_job": "RUNNING"}.get(run.kind, run.state)
    store.save(run)
    LOGGER.info("running %s %s (%s)", run.kind, run.job, run.run_id)
    event = RUNNERS[run.kind](lake, run)
    run.completed_on = utc_now()
    store.save(run)
    return event


def _region(lake: Lake) -> str:
    return lake.config.region or LOCAL_REGION
