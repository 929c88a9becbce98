"""`lake generate`: write a synthetic Instacart dataset (the six files, the ground truth and,
with --defects, damaged lines and their manifest) into a folder."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from instacart_lake.context import Lake
from instacart_lake.generate import GROUND_TRUTH_FILE, MANIFEST_FILE, SCALES, generate_dataset, scale_named

HELP = "generate a synthetic Instacart dataset with known reorder probabilities (and defects)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", choices=list(SCALES), default="small",
                        help="tiny ~100 users, small ~2,000, medium ~20,000, full 206,209 "
                             "(default: small)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the files into")
    parser.add_argument("--defects", type=float, default=0.0, metavar="RATE",
                        help=f"damage this fraction of the rows of each file and list the "
                             f"damaged lines in {MANIFEST_FILE}")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="processes simulating users (default: up to 2); the output "
                             "does not depend on it")


def run(args: argparse.Namespace, lake: Lake) -> int:
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("starting", total=None)

        def advance(step: str, done: int, total: int) -> None:
            progress.update(task, description=step, completed=done, total=total)

        report = generate_dataset(args.out, scale_named(args.scale), args.seed, args.defects,
                                  workers=args.workers, progress=advance)
    console.print(f"{args.scale} dataset, seed {args.seed}, in {report.directory}:")
    for file_name, rows in report.rows.items():
        note = " (answer key, not ingested)" if file_name == GROUND_TRUTH_FILE else ""
        console.print(f"  {file_name:<28} {rows:>12,} rows{note}")
    if args.defects:
        console.print(f"  {MANIFEST_FILE:<28} {report.damaged_lines:>12,} damaged lines")
    return 0
