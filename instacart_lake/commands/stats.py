"""`lake stats DIR`: the statistics of an Instacart dataset next to those of the real data."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.generate.statistics import AT_MOST, RANGE, Comparison, compare_with_real, compute_statistics

HELP = "statistics of a dataset's files (and the oracle F1) side by side with the real data"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path, help="folder with the six CSV files")
    parser.add_argument("--json", action="store_true", help="print the statistics as JSON")
    parser.add_argument("--no-oracle", action="store_true",
                        help="skip the oracle F1 (it reads ground_truth.csv)")


def run(args: argparse.Namespace, lake: Lake) -> int:
    if not args.directory.is_dir():
        raise LakeError(f"{args.directory}: no such folder")
    comparisons = compare_with_real(compute_statistics(args.directory, with_oracle=not args.no_oracle))
    if args.json:
        print(json.dumps({c.target.key: {"label": c.target.label, "value": c.value,
                                         "real": c.expected, "in_tolerance": c.in_tolerance}
                          for c in comparisons}, indent=2))
        return 0
    table = Table(title=f"{args.directory} vs the real data: within 10% unless a range or bound")
    table.add_column("quantity")
    table.add_column("this dataset", justify="right")
    table.add_column("real", justify="right")
    table.add_column("ok", justify="center")
    for comparison in comparisons:
        table.add_row(comparison.target.label, _shown(comparison.value), _expected(comparison),
                      {True: "yes", False: "NO", None: "-"}[comparison.in_tolerance])
    Console(width=110).print(table)
    return 0


def _expected(comparison: Comparison) -> str:
    check, expected = comparison.target.check, comparison.expected
    if check == RANGE:
        return f"{_shown(expected[0])} to {_shown(expected[1])}"
    text = _shown(expected)
    if check == AT_MOST:
        return f"at most {text}"
    return f"{text} (scaled)" if expected != comparison.target.real else text


def _shown(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return ", ".join(_shown(v) for v in value)
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
