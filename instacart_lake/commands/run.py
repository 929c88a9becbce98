"""`lake run`: the pipeline on generated data (or --source DIR), or some of its stages, as the
chain of events of the orchestration definition."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.generate import GROUND_TRUTH_FILE
from instacart_lake.orchestration import load_definition
from instacart_lake.pipeline import generated_source, run_pipeline
from instacart_lake.progress import new_console
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


def handler_settings(source_dir: Path) -> dict[str, str]:
    """The handlers' settings beyond the lake's, as the template would give them: with a
    generated source, its ground truth, which the gold job takes for the oracle's F1."""
    ground_truth = source_dir / GROUND_TRUTH_FILE
    return {"GROUND_TRUTH_URI": ground_truth.resolve().as_uri()} if ground_truth.is_file() else {}


def run(args: argparse.Namespace, lake: Lake) -> int:
    console = new_console()
    if args.source is not None and not Path(args.source).is_dir():
        raise LakeError(f"{args.source}: no such folder")
    source_dir = Path(args.source) if args.source is not None else generated_source(lake, console)
    record = run_pipeline(lake, source_dir, console, start=args.start, until=args.until,
                          handler_settings=handler_settings(source_dir))
    print_run_summary(record, console)
    for stage in record.stages:
        if stage.error:
            print(f"lake run: error: {stage.stage} (job run {stage.job_run_id}) {stage.state}: {stage.error}",
                  file=sys.stderr)
    return 0 if record.outcome == "succeeded" else 1
