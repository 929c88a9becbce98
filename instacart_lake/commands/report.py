"""`lake report`: the run report, one self-contained HTML page for a run and its history."""

from __future__ import annotations

import argparse
from pathlib import Path

from instacart_lake import storage
from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.locations import is_local, uri_to_path
from instacart_lake.observability.features import compare_runs, feature_versions
from instacart_lake.observability.report import render_report, report_sections
from instacart_lake.observability.run_history import load_history

HELP = ("write the run report: one self-contained HTML page with the run's timeline, rows through the zones, "
        "quarantine reasons, data quality, history across runs, feature drift and the model's evaluation")
REPORT_NAME = "report.html"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", metavar="ID", help="the run to report (default: the latest)")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help=f"where to write the page (default: {REPORT_NAME} beside the run records)")


def default_report_path(lake: Lake, run_id: str) -> Path:
    uri = f"{lake.locations.runs_uri}/{run_id}.{REPORT_NAME}"
    if not is_local(uri):
        raise LakeError(f"the {lake.config.profile} profile keeps its run records in {lake.locations.runs_uri}: "
                        "give --out FILE")
    return Path(uri_to_path(uri))


def run(args: argparse.Namespace, lake: Lake) -> int:
    runs = load_history(lake, args.run)
    current = runs[-1].record
    wrote_features = feature_versions(current)
    previous = next((run.record for run in reversed(runs[:-1])
                     if set(feature_versions(run.record)) & set(wrote_features)), None)
    page = render_report(report_sections(runs, compare_runs(lake, current, previous), previous))
    out = args.out or default_report_path(lake, current.run_id)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        storage.write_text_atomic(str(out.resolve()), page)
    except OSError as error:
        raise LakeError(f"{out}: cannot write the report ({error.strerror})") from error
    print(out)
    return 0
