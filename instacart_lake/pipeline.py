"""The pipeline as `lake run` (and `make run`) runs it: the AWS path on this machine.

The stages and the events between them are those of the orchestration definition
(instacart_lake/orchestration/pipeline.toml). The ingest stage lands the source files; its
batch marker's S3 event then goes to the handlers, whose job runs the local event loop runs,
each in its own process, until the chain ends. `--from STAGE` starts that stage's job
directly, `--until STAGE` delivers no event after it. The run record, saved after every job
run, holds one stage per job run with its results, so that `lake status` shows a run in
progress or one that failed half-way.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Mapping

from rich.console import Console

from instacart_lake.context import Lake
from instacart_lake.crawler import crawler_name
from instacart_lake.errors import LakeError
from instacart_lake.ingest import IngestReport, ingest
from instacart_lake.job_args import new_job_run_id
from instacart_lake.orchestration import load_definition
from instacart_lake.orchestration.event_loop import LocalEventLoop, batch_marker_event, lake_environment
from instacart_lake.orchestration.job_runs import JobRun, JobRunStore
from instacart_lake.progress import byte_progress
from instacart_lake.runs import RunRecord, StageRecord, save_run, utc_now

DEFAULT_SCALE = "small"
DEFAULT_SEED = 42


def generated_source(lake: Lake, console: Console) -> Path:
    """The default source: a small generated dataset, made once per lake and reused."""
    from instacart_lake.generate import generate_dataset, scale_named
    from instacart_lake.locations import is_local, uri_to_path

    uri = lake.locations.meta_uri(f"generated/{DEFAULT_SCALE}-seed{DEFAULT_SEED}")
    if not is_local(uri):
        raise LakeError(f"the {lake.config.profile} profile's lake is not on this machine, so it keeps no generated "
                        "dataset: give --source DIR (`lake generate` makes one)")
    folder = Path(uri_to_path(uri))
    if not (folder / "orders.csv").exists():
        console.print(f"generating the {DEFAULT_SCALE} synthetic dataset (seed {DEFAULT_SEED}) in {folder}")
        generate_dataset(folder, scale_named(DEFAULT_SCALE), DEFAULT_SEED)
    return folder


def first_stage(start: str | None, until: str | None) -> str:
    """The stage a run starts with (the first by default), checked against the one it stops after."""
    definition = load_definition()
    names = definition.stage_names
    for stage_name in (start, until):
        if stage_name is not None:
            definition.stage(stage_name)
    first, last = start or names[0], until or names[-1]
    if names.index(first) > names.index(last):
        raise LakeError(f"--from {start} comes after --until {until}")
    return first


def _seconds_between(start: str | None, end: str | None) -> float:
    if start is None or end is None:
        return 0.0
    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()


def stage_record(stage: str, run: JobRun, next_step: dict | None) -> StageRecord:
    """A job run of the run, with what the job reported."""
    outcome = "running" if not run.finished else ("succeeded" if run.succeeded else "failed")
    return StageRecord(stage=stage, outcome=outcome, started_at=run.started_on or run.created_on,
                       seconds=_seconds_between(run.started_on, run.completed_on),
                       tables=run.results.get("tables", {}), details=run.results.get("details", {}),
                       error=run.error, job_run_id=run.run_id, state=run.state, finished_at=run.completed_on,
                       started_by=run.started_by, next_step=next_step)


def _ingest_stage(report: IngestReport, started_at: str) -> StageRecord:
    tables = {landing.table: {"rows_read": landing.row_count, "rows_written": landing.row_count,
                              "bytes": landing.size_bytes, "version": landing.version} for landing in report.landed}
    finished_at = utc_now()
    return StageRecord(stage="ingest", outcome="succeeded", started_at=started_at, finished_at=finished_at,
                       seconds=_seconds_between(started_at, finished_at), tables=tables,
                       details={"unchanged": report.unchanged, "ignored": report.ignored,
                                "batch_uri": report.batch_uri},
                       started_by="lake run")


def _record_progress(lake: Lake, run: RunRecord, loop: LocalEventLoop, ingest_stage: StageRecord | None) -> None:
    store = JobRunStore(lake)
    if ingest_stage is not None:
        ingest_stage.next_step = loop.handled.get(run.run_id)
    job_stages = [stage_record(loop.stage_of(job_run), job_run, loop.handled.get(run_id))
                  for run_id in loop.started if (job_run := store.get(run_id)) is not None]
    run.stages = ([ingest_stage] if ingest_stage is not None else []) + job_stages
    save_run(lake, run)


def run_pipeline(lake: Lake, source_dir: Path, console: Console, start: str | None = None,
                 until: str | None = None, handler_settings: Mapping[str, str] | None = None) -> RunRecord:
    """Run the chain from `start` (the first stage when None) up to `until` (the last when
    None); the run record tells the outcome. `handler_settings` is the handlers' environment
    beyond the lake's, as the template would set it."""
    first = first_stage(start, until)
    definition = load_definition()
    run = RunRecord(run_id=new_job_run_id(), source=str(source_dir))
    ingest_stage = None
    JobRunStore(lake).stop_unfinished("stopped: the lake run that started it ended before it")
    with lake_environment(lake, handler_settings or {}):
        loop = LocalEventLoop(lake, definition, until,
                              on_start=lambda job_run: console.print(f"[bold]{loop.stage_of(job_run)}[/bold] …"),
                              on_end=lambda job_run: _record_progress(lake, run, loop, ingest_stage))
        try:
            if first == definition.stage_names[0]:
                console.print(f"[bold]{first}[/bold] …")
                started_at = utc_now()
                with byte_progress(console, [source_dir]) as advance:
                    report = ingest(lake, [str(source_dir)], run.run_id, on_progress=advance)
                ingest_stage = _ingest_stage(report, started_at)
                if report.batch_uri is not None:
                    loop.deliver(batch_marker_event(lake, report.batch_uri), first, run.run_id)
            else:
                loop.start_stage(definition.stage(first), crawler_name(lake))
            loop.run()
        except BaseException:
            run.outcome = "failed"
            raise
        finally:
            _record_progress(lake, run, loop, ingest_stage)
            if run.outcome != "failed":
                run.outcome = "failed" if any(stage.outcome != "succeeded" for stage in run.stages) else "succeeded"
            run.finished_at = utc_now()
            save_run(lake, run)
    return run
