"""`lake ingest SRC...`: land Instacart CSV files in the raw zone."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from rich.table import Table

from instacart_lake import lake_lock
from instacart_lake.commands.options import add_wait_option
from instacart_lake.context import Lake
from instacart_lake.ingest import ingest, not_ingested_note
from instacart_lake.job_args import new_job_run_id
from instacart_lake.progress import byte_progress, new_console

HELP = "land Instacart CSV files (folders or single files) in the raw zone"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="+", metavar="SRC", help="a folder of CSV files, or CSV files")
    parser.add_argument("--ingest-date", type=dt.date.fromisoformat, default=None,
                        help="partition date YYYY-MM-DD (default: today, UTC)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_wait_option(parser)


def run(args: argparse.Namespace, lake: Lake) -> int:
    console = new_console(stderr=args.json)
    run_id = new_job_run_id()
    with (lake_lock.hold(lake, run_id, "lake ingest", args.wait, on_note=lake_lock.note_on_stderr),
          byte_progress(console, [Path(source) for source in args.sources]) as advance):
        report = ingest(lake, args.sources, run_id, args.ingest_date, on_progress=advance)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    table = Table("file", "table", "version", "rows", "bytes", "landed at", title="ingest")
    for landing in report.landed:
        table.add_row(landing.source_name, landing.table, str(landing.version),
                      f"{landing.row_count:,}", f"{landing.size_bytes:,}", landing.uri)
    console.print(table)
    for path in report.unchanged:
        console.print(f"unchanged (already landed): {path}")
    for path in report.ignored:
        console.print(f"[yellow]{not_ingested_note(path)}[/yellow]", soft_wrap=True)
    console.print(f"{len(report.landed)} landed, {len(report.unchanged)} unchanged, "
                  f"{len(report.ignored)} not ingested")
    return 0
