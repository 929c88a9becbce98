"""`lake run`: the pipeline on generated data (or --source DIR), or some of its stages, as the
chain of events of the orchestration definition. A run from a stage after ingest (--from)
lands and generates nothing: it works on what the lake holds, and takes the ground truth of
the dataset the lake's last run was built from, if it had one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from instacart_lake import lake_lock
from instacart_lake.commands.options import add_wait_option
from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.failures import EX_FAILED, exit_code_of_message
from instacart_lake.generate import GROUND_TRUTH_FILE
from instacart_lake.job_args import new_job_run_id
from instacart_lake.orchestration import load_definition
from instacart_lake.pipeline import generated_source, run_pipeline
from instacart_lake.progress import new_console
from instacart_lake.runs import RunRecord, load_latest_run
from instacart_lake.summary import print_run_summary

STAGES = load_definition().stage_names
HELP = "run the pipeline: " + ", ".join(STAGES)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", metavar="DIR", default=None,
                        help="folder with the six Instacart CSV files (default: a generated small dataset)")
    parser.add_argument("--from", dest="start", metavar="STAGE", choices=STAGES, default=None,
                        help="start this stage's job directly, on the tables the lake already has")
    parser.add_argument("--until", metavar="STAGE", choices=STAGES, default=None,
                        help="stop after this stage: " + ", ".join(STAGES))
    add_wait_option(parser)


def handler_settings(source_dir: Path | None) -> dict[str, str]:
    """The handlers' settings beyond the lake's, as the template would give them: with a
    generated source, its ground truth, which the gold job takes for the oracle's F1."""
    ground_truth = source_dir / GROUND_TRUTH_FILE if source_dir is not None else None
    return {"GROUND_TRUTH_URI": ground_truth.resolve().as_uri()} if ground_truth and ground_truth.is_file() else {}


def chosen_source(lake: Lake, args: argparse.Namespace, console: Console) -> Path | None:
    """--source; else, for a run that ingests, the generated dataset; else the dataset the
    lake's last run was built from (None when unknown: no ground truth, no oracle)."""
    if args.source is not None:
        return Path(args.source)
    if args.start in (None, STAGES[0]):
        return generated_source(lake, console)
    last = load_latest_run(lake)
    return Path(last.source) if last is not None and last.source is not None and Path(last.source).is_dir() else None


def exit_code(record: RunRecord) -> int:
    """0 for a run that succeeded; else that of its failed stages' errors (74 for a full disk)."""
    if record.outcome == "succeeded":
        return 0
    return max((exit_code_of_message(stage.error) for stage in record.stages if stage.error), default=EX_FAILED)


def run(args: argparse.Namespace, lake: Lake) -> int:
    console = new_console()
    if args.source is not None and not Path(args.source).is_dir():
        raise LakeError(f"{args.source}: no such folder")
    run_id = new_job_run_id()
    with lake_lock.hold(lake, run_id, "lake run", args.wait, on_note=lake_lock.note_on_stderr):
        source_dir = chosen_source(lake, args, console)
        record = run_pipeline(lake, source_dir, console, start=args.start, until=args.until,
                              handler_settings=handler_settings(source_dir), run_id=run_id)
    print_run_summary(record, console)
    for stage in record.stages:
        if stage.error:
            print(f"lake run: error: {stage.stage} (job run {stage.job_run_id}) {stage.state}: {stage.error}",
                  file=sys.stderr)
    return exit_code(record)
