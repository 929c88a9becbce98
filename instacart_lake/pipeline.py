"""The whole pipeline, stage by stage, as `lake run` (and `make run`) runs it.

Stages are named after their jobs and run in order; `until` stops after one. Each stage
returns its counts into the run record, which is saved after every stage so that
`lake status` shows a run in progress or one that failed half-way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from pyspark.sql import SparkSession
from rich.console import Console

from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.generate import GROUND_TRUTH_FILE
from instacart_lake.job_args import new_job_run_id
from instacart_lake.runs import RunRecord, StageRecord, save_run, utc_now
from instacart_lake.runtime import local_spark

DEFAULT_SCALE = "small"
DEFAULT_SEED = 42


@dataclass
class PipelineContext:
    lake: Lake
    run: RunRecord
    source_dir: Path
    console: Console
    model_card: Any = None
    """The ModelCard of the model version the train stage made, for the score stage."""

    @cached_property
    def spark(self) -> SparkSession:
        return local_spark(self.lake.config, "instacart-lake")


def _stage_ingest(context: PipelineContext, stage: StageRecord) -> None:
    from instacart_lake.ingest import ingest
    from instacart_lake.progress import byte_progress

    with byte_progress(context.console, [context.source_dir]) as advance:
        report = ingest(context.lake, [str(context.source_dir)], context.run.run_id,
                        on_progress=advance)
    for landing in report.landed:
        stage.tables[landing.table] = {"rows_read": landing.row_count, "rows_written": landing.row_count,
                                       "bytes": landing.size_bytes, "version": landing.version}
    stage.details = {"unchanged": report.unchanged, "ignored": report.ignored}


def _stage_crawl(context: PipelineContext, stage: StageRecord) -> None:
    from instacart_lake.crawler import crawl_raw_zone

    report = crawl_raw_zone(context.lake)
    stage.details = report.to_dict()


def _stage_raw_to_clean(context: PipelineContext, stage: StageRecord) -> None:
    from instacart_lake.jobs.raw_to_clean import GateStopped, run_raw_to_clean

    try:
        table_runs = run_raw_to_clean(context.spark, context.lake, context.run.run_id)
    except GateStopped as stopped:
        stage.tables = {run.table.name: run.counts() for run in stopped.table_runs}
        raise
    stage.tables = {run.table.name: run.counts() for run in table_runs}


def _stage_clean_to_curated(context: PipelineContext, stage: StageRecord) -> None:
    from instacart_lake.jobs.clean_to_curated import run_clean_to_curated

    table_runs = run_clean_to_curated(context.spark, context.lake, context.run.run_id)
    stage.tables = {run.name: run.counts() for run in table_runs}


def _stage_curated_to_ml(context: PipelineContext, stage: StageRecord) -> None:
    from instacart_lake.jobs.curated_to_ml import run_curated_to_ml

    result = run_curated_to_ml(context.spark, context.lake, context.run.run_id)
    stage.tables = result["sets"]
    stage.details = {"read_versions": result["read_versions"],
                     "candidates_version": result["candidates_version"]}


def training_data_versions(run: RunRecord) -> dict[str, int]:
    """The Delta versions behind this run's training sets: ml_candidates as curated_to_ml
    wrote it, and the tables that job read."""
    sets = next((stage for stage in run.stages if stage.stage == "curated_to_ml"), None)
    if sets is None or sets.outcome != "succeeded":
        raise LakeError("the train stage needs the sets of curated_to_ml in the same run")
    return {"ml_candidates": sets.details["candidates_version"], **sets.details["read_versions"]}


def _stage_train(context: PipelineContext, stage: StageRecord) -> None:
    from instacart_lake.ml.local_runner import LocalJobs, local_stage_settings
    from instacart_lake.ml.stage import train_model_version

    card, card_uri = train_model_version(local_stage_settings(context.lake), LocalJobs(),
                                         training_data_versions(context.run))
    context.model_card = card
    stage.details = {"model_version": card.model_version, "model_card_uri": card_uri, "metrics": card.metrics,
                     "hyperparameters": card.hyperparameters, "data_versions": card.data_versions}


def _stage_score(context: PipelineContext, stage: StageRecord) -> None:
    from instacart_lake.jobs.gold_predictions import run_gold_predictions
    from instacart_lake.ml.local_runner import LocalJobs, local_stage_settings
    from instacart_lake.ml.model_card import model_card_uri
    from instacart_lake.ml.stage import score_model_version

    card = context.model_card
    if card is None:
        raise LakeError("the score stage scores the model version the train stage makes in the same run "
                        "(start with --from train or earlier)")
    scoring = score_model_version(local_stage_settings(context.lake), LocalJobs(), card)
    ground_truth = context.source_dir / GROUND_TRUTH_FILE  # generated data only: gives the oracle
    gold = run_gold_predictions(context.spark, context.lake, context.run.run_id,
                                model_card_uri(card.model_artifact_uri), scoring.set_uris["inference"],
                                scoring.set_uris["validation"], ground_truth if ground_truth.is_file() else None)
    stage.tables = {run.name: run.counts() for run in gold.tables}
    stage.details = {"model_version": gold.model_version, "scoring_job_name": scoring.job_name,
                     "evaluation": gold.evaluation.to_dict(), "evaluation_uri": gold.evaluation_uri}


STAGES: dict[str, Callable[[PipelineContext, StageRecord], None]] = {
    "ingest": _stage_ingest,
    "crawl": _stage_crawl,
    "raw_to_clean": _stage_raw_to_clean,
    "clean_to_curated": _stage_clean_to_curated,
    "curated_to_ml": _stage_curated_to_ml,
    "train": _stage_train,
    "score": _stage_score,
}


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


def run_pipeline(lake: Lake, source: str | None, until: str | None, console: Console,
                 start: str | None = None) -> RunRecord:
    """Run the stages in order from `start` (the first when None) up to `until` (the last
    when None); the run record tells the outcome. Starting later reruns jobs on the tables
    the lake already has (the train stage needs curated_to_ml in the same run)."""
    names = list(STAGES)
    for stage_name in (start, until):
        if stage_name is not None and stage_name not in STAGES:
            raise LakeError(f"unknown stage {stage_name!r}; stages are {', '.join(STAGES)}")
    first = names.index(start) if start is not None else 0
    last = names.index(until) if until is not None else len(names) - 1
    if first > last:
        raise LakeError(f"--from {start} comes after --until {until}")
    if source is not None and not Path(source).is_dir():
        raise LakeError(f"{source}: no such folder")
    source_dir = Path(source) if source is not None else generated_source(lake, console)
    run = RunRecord(run_id=new_job_run_id(), source=str(source_dir))
    context = PipelineContext(lake, run, source_dir, console)
    for name in names[first:last + 1]:
        stage = StageRecord(stage=name)
        run.stages.append(stage)
        console.print(f"[bold]{name}[/bold] …")
        started = time.perf_counter()
        try:
            STAGES[name](context, stage)
            stage.outcome = "succeeded"
        except Exception as error:
            stage.outcome, stage.error = "failed", str(error)
            run.outcome, run.finished_at = "failed", utc_now()
            raise
        finally:
            stage.seconds = round(time.perf_counter() - started, 3)
            save_run(lake, run)
    run.outcome, run.finished_at = "succeeded", utc_now()
    save_run(lake, run)
    return run
