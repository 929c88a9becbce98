"""The pipeline as `lake run` (and `make run`) runs it: the AWS path on this machine.

The stages and the events between them are those of the orchestration definition
(instacart_lake/orchestration/pipeline.toml). The ingest stage lands the source files; its
batch marker's S3 event then goes to the handlers, whose job runs the local event loop runs,
each in its own process, until the chain ends. `--from STAGE` starts that stage's job
directly, on what the lake already holds (the crawl or job 1 refused when nothing is
landed), `--until STAGE` delivers no event after it. The run record, saved after every job run, holds one stage per
job run with its results, so that `lake status` shows a run in progress or one that failed
half-way; a run that ends with an exception is saved as failed (or interrupted, Ctrl-C) with
that exception's message, and a record the lake refuses to take then does not hide it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Mapping

from rich.console import Console

from instacart_lake.context import Lake
from instacart_lake.crawler import crawler_name
from instacart_lake.errors import LakeError
from instacart_lake.failures import classify, local_lake_root
from instacart_lake.ingest import IngestReport, ingest, landed_files, not_ingested_note, read_manifest
from instacart_lake.job_args import new_job_run_id
from instacart_lake.ledger import Ledger
from instacart_lake.orchestration import load_definition
from instacart_lake.orchestration.event_loop import LocalEventLoop, batch_marker_event, lake_environment
from instacart_lake.orchestration.job_runs import JobRun, JobRunStore
from instacart_lake.progress import byte_progress
from instacart_lake.runs import RunRecord, StageRecord, mark_dead_run_interrupted, save_run, utc_now
from instacart_lake.schemas import SOURCE_TABLES

STOPPED_STATES = frozenset({"STOPPED", "Stopped"})
RAW_ZONE_READERS = ("crawl", "raw_to_clean")
"""The stages that read the files landed in the raw zone."""
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
    outcome = "running" if not run.finished else (
        "succeeded" if run.succeeded else "stopped" if run.state in STOPPED_STATES else "failed")
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


def _check_landed(lake: Lake, first: str) -> None:
    """A run from a stage that reads the landed files works on what is landed: refuse one on a
    lake with nothing landed, which would otherwise "succeed" on nothing. (Later stages read
    tables, whose jobs say which one is missing.)"""
    if first in RAW_ZONE_READERS and not read_manifest(lake):
        raise LakeError(f"--from {first}: nothing is landed in {lake.locations.zone_uri('raw')} yet; "
                        "run `lake run` without --from (or `lake ingest`) first")


def one_line(error: BaseException, lake_root: Path | None = None) -> str:
    """An exception as the one line the CLI would print for it."""
    failure = classify(error, lake_root)
    return failure.message if failure is not None else f"{type(error).__name__}: {error}".splitlines()[0]


def run_pipeline(lake: Lake, source_dir: Path | None, console: Console, start: str | None = None,
                 until: str | None = None, handler_settings: Mapping[str, str] | None = None,
                 run_id: str | None = None) -> RunRecord:
    """Run the chain from `start` (the first stage when None) up to `until` (the last when
    None); the run record tells the outcome. `source_dir` is the dataset ingested (or, for a
    run from a later stage, the one the lake holds; None when unknown). `handler_settings` is
    the handlers' environment beyond the lake's, as the template would set it."""
    first = first_stage(start, until)
    definition = load_definition()
    _check_landed(lake, first)
    if source_dir is None:
        console.print(f"--from {first}: no dataset is recorded for the lake's data, so no ground truth "
                      "(the evaluation leaves out the oracle)")
    mark_dead_run_interrupted(lake)
    run = RunRecord(run_id=run_id or new_job_run_id(), source=str(source_dir) if source_dir is not None else None)
    ingest_stage = None
    JobRunStore(lake).stop_unfinished("stopped: the lake run that started it ended before it")
    with lake_environment(lake, handler_settings or {}):
        loop = LocalEventLoop(lake, definition, until,
                              on_start=lambda job_run: console.print(f"[bold]{loop.stage_of(job_run)}[/bold] …"),
                              on_end=lambda job_run: _record_progress(lake, run, loop, ingest_stage))
        try:
            save_run(lake, run)
            if first == definition.stage_names[0]:
                console.print(f"[bold]{first}[/bold] …")
                started_at = utc_now()
                with byte_progress(console, [source_dir]) as advance:
                    report = ingest(lake, [str(source_dir)], run.run_id, on_progress=advance)
                ingest_stage = _ingest_stage(report, started_at)
                for path in report.ignored:
                    console.print(f"[yellow]{not_ingested_note(path)}[/yellow]", soft_wrap=True)
                if report.batch_uri is not None:
                    loop.deliver(batch_marker_event(lake, report.batch_uri), first, run.run_id)
                elif until != first and _landed_but_unprocessed(lake):
                    loop.start_stage(definition.stage(definition.stage_names[1]), crawler_name(lake))
            else:
                loop.start_stage(definition.stage(first), crawler_name(lake))
            loop.run()
        except BaseException as error:
            # The first error is the one to tell: a lake that failed the run (full, read-only)
            # may refuse its record too, and that second error must not replace it.
            with contextlib.suppress(Exception):
                _end_run(lake, run, loop, ingest_stage, error)
            raise
        _end_run(lake, run, loop, ingest_stage)
    return run


def _landed_but_unprocessed(lake: Lake) -> bool:
    """Whether job 1's ledger misses a file that ingest landed (a run killed before job 1
    recorded it): a run that lands nothing new then runs the chain on those files."""
    from instacart_lake.jobs.raw_to_clean import JOB_NAME

    ledger = Ledger(lake.locations.ledger_uri(JOB_NAME), lake.locations.zone_uri("raw"))
    return any(ledger.pending(landed_files(lake, table)) for table in SOURCE_TABLES.values())


def _end_run(lake: Lake, run: RunRecord, loop: LocalEventLoop, ingest_stage: StageRecord | None,
             error: BaseException | None = None) -> None:
    """Save the record of the run as it ended: by `error` when one stopped it, else by its stages."""
    run.finished_at = utc_now()
    if error is not None:
        run.error = one_line(error, local_lake_root(lake))
        interrupted = isinstance(error, KeyboardInterrupt)
        ended = "was interrupted" if interrupted else "failed"
        JobRunStore(lake).stop_unfinished(f"stopped: the lake run that started it {ended}")
        _record_progress(lake, run, loop, ingest_stage)
        if interrupted:
            run.mark_interrupted(run.error)
        else:
            run.outcome = "failed"
    else:
        _record_progress(lake, run, loop, ingest_stage)
        run.outcome = "failed" if any(stage.outcome != "succeeded" for stage in run.stages) else "succeeded"
    save_run(lake, run)
