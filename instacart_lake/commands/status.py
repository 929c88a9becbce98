"""`lake status`: the last run, per stage and table, and its timeline of job runs."""

from __future__ import annotations

import argparse
import json

from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.progress import new_console
from instacart_lake.runs import load_latest_run
from instacart_lake.summary import print_run_summary

HELP = ("show the last pipeline run: per stage and table, rows read, written and rejected, timings, outcome; "
        "its timeline of job runs (id, start, end, state, the event that started each)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the run record as JSON")


def run(args: argparse.Namespace, lake: Lake) -> int:
    record = load_latest_run(lake)
    if record is None:
        raise LakeError(f"no run recorded in {lake.locations.runs_uri} yet (run `lake run` first)")
    if args.json:
        print(json.dumps(record.to_dict(), indent=2, sort_keys=True))
    else:
        print_run_summary(record, new_console())
    return 0 if record.outcome == "succeeded" else 1
