"""`lake run`: the whole pipeline on generated data (or --source DIR), or its stages up to one."""

from __future__ import annotations

import argparse

from instacart_lake.context import Lake
from instacart_lake.pipeline import STAGES, run_pipeline
from instacart_lake.progress import new_console
from instacart_lake.summary import print_run_summary

HELP = "run the pipeline: " + ", ".join(STAGES)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", metavar="DIR", default=None,
                        help="folder with the six Instacart CSV files (default: a generated small dataset)")
    parser.add_argument("--from", dest="start", metavar="STAGE", choices=list(STAGES), default=None,
                        help="start at this stage, on the tables the lake already has")
    parser.add_argument("--until", metavar="STAGE", choices=list(STAGES), default=None,
                        help="stop after this stage: " + ", ".join(STAGES))


def run(args: argparse.Namespace, lake: Lake) -> int:
    console = new_console()
    record = run_pipeline(lake, args.source, args.until, console, start=args.start)
    print_run_summary(record, console)
    return 0
