"""Run one job run of the job-run store the way its service runs it, then give the
state-change event that the service would send.

A Glue job run is its glue_jobs/ script in its own process, with Glue's arguments
(--JOB_NAME, --JOB_RUN_ID and the run's own) and the environment of this process (the lake's
LAKE_* settings); its output goes to a log in the lake's meta location, its error is the
exception that ended the script. A crawler run is the project's crawler. A SageMaker job is
its request run by the ML local runner (a subprocess of the script of ml/).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from itertools import takewhile
from pathlib import Path
from typing import Any, Callable

from instacart_lake import storage
from instacart_lake.context import Lake
from instacart_lake.crawler import crawl_raw_zone
from instacart_lake.errors import LakeError
from instacart_lake.failures import NO_SPACE_TEXT, local_lake_root, no_space_message
from instacart_lake.jobs.job_results import read_job_results
from instacart_lake.ml.local_runner import LocalJobs
from instacart_lake.orchestration import events
from instacart_lake.orchestration.job_runs import JobRun, JobRunStore
from instacart_lake.orchestration.local_services import LOCAL_REGION, sagemaker_description
from instacart_lake.runs import utc_now

LOGGER = logging.getLogger(__name__)

GLUE_JOBS_DIR = Path(__file__).resolve().parents[2] / "glue_jobs"
PR_SET_PDEATHSIG = 1
"""prctl's option (linux/prctl.h): the signal a process gets when its parent dies."""


def glue_job_command(run: JobRun) -> list[str]:
    arguments = [item for name, value in run.arguments.items() for item in (name, value)]
    return [sys.executable, str(GLUE_JOBS_DIR / f"{run.job}.py"), "--JOB_NAME", run.job,
            "--JOB_RUN_ID", run.run_id, *arguments]


def script_error(stderr: str, returncode: int, lake_root: Path | None = None) -> str:
    """The exception that ended a Python script, as `Type: message` (with the message's
    indented lines), from its stderr. A full
    disk is told as such wherever it shows, also as the Java IOException under a Py4J error,
    with the free bytes left at `lake_root`."""
    lines = stderr.splitlines()
    if any(NO_SPACE_TEXT in line for line in lines):
        return no_space_message(lake_root)
    starts = [index for index, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    if starts:
        after = lines[starts[-1] + 1:]
        for index, line in enumerate(after):
            if line and not line.startswith(" "):
                kind, separator, message = line.partition(": ")
                # A message's own indented lines (a gate's failed rules) follow it.
                continued = list(takewhile(lambda text: text.startswith("  "), after[index + 1:]))
                message = "\n".join([message, *continued])
                return f"{kind.rsplit('.', 1)[-1]}: {message}" if separator else kind.rsplit(".", 1)[-1]
    return f"the script exited with status {returncode}"


def _die_with_parent(parent: int, prctl: Callable[[int, int], int]) -> Callable[[], None]:
    """What the job's process runs before its script: be killed when `lake run` dies, even by
    SIGKILL (Linux's PR_SET_PDEATHSIG), so that no job writes on after its run lost the lake lock."""

    def arrange() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return arrange


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Ctrl-C and SIGTERM: what stops `lake run` (instacart_lake.failures.terminate_as_interrupt)."""


def run_job_process(command: list[str]) -> subprocess.CompletedProcess:
    """Run a job's script to its end in a process group of its own, its output captured. The
    terminal's Ctrl-C reaches only `lake run`, which then kills the group (the job's Spark JVM
    with it), so that no job outlives the run and none prints on the terminal.

    A Ctrl-C or SIGTERM that comes while the process is being started is held until it has
    started, and then delivered, so that the job is killed too: raised during the fork, it
    would run in an at-fork hook (logging has one), where Python ignores exceptions, and the
    run would go on."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
    held: list[int] = []
    handlers = {signum: signal.signal(signum, lambda signum, frame: held.append(signum)) for signum in STOP_SIGNALS}
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True,
                                   preexec_fn=_die_with_parent(os.getpid(), prctl) if prctl else None)
    except BaseException:
        _deliver_held(handlers, held)
        raise
    try:
        _deliver_held(handlers, held)
        stdout, stderr = process.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _deliver_held(handlers: dict[int, Any], held: list[int]) -> None:
    """Put the handlers back, then raise each held signal again, for its handler to act on."""
    for signum, handler in handlers.items():
        signal.signal(signum, handler)
    for signum in held:
        signal.raise_signal(signum)


def _run_glue_job(lake: Lake, run: JobRun) -> dict[str, Any]:
    completed = run_job_process(glue_job_command(run))
    storage.write_text_atomic(lake.locations.meta_uri(f"job_logs/{run.run_id}.log"),
                              completed.stdout + completed.stderr)
    run.state = "SUCCEEDED" if completed.returncode == 0 else "FAILED"
    if completed.returncode != 0:
        run.error = script_error(completed.stderr, completed.returncode, local_lake_root(lake))
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
