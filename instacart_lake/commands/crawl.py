"""`lake crawl`: catalog the raw zone, as a Glue crawler with the built-in CSV classifier."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from instacart_lake.context import Lake
from instacart_lake.crawler import SCHEMA_CHANGE_POLICIES, CrawlReport, crawl_raw_zone
from instacart_lake.progress import new_console

HELP = "catalog the raw zone: one table per folder, a partition per landing, schema drift reported"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the crawl report as JSON")
    parser.add_argument("--schema-change-policy", choices=SCHEMA_CHANGE_POLICIES, default=None,
                        help="on schema drift, update the table (a new version) or only log it "
                             "(default: the crawler definition's, crawlers/raw_zone.toml)")


def print_crawl_summary(report: CrawlReport, console: Console) -> None:
    if report.drift:
        drift = Table("table", "landing", "change", "column", "old type", "new type", title="schema drift")
        for item in report.drift:
            drift.add_row(item.table, item.partition, item.kind, item.column, item.old_type or "", item.new_type or "")
        console.print(drift)
    for problem in report.problems:
        where = problem.path if problem.line is None else f"{problem.path}:{problem.line}"
        console.print(f"[yellow]not cataloged: {where}: {problem.message}[/yellow]")
    console.print(
        f"{report.database}: {len(report.tables_created)} tables created, {len(report.tables_updated)} updated, "
        f"{len(report.tables_unchanged)} unchanged; {len(report.partitions_added)} partitions added, "
        f"{len(report.partitions_updated)} updated; {len(report.drift)} schema changes "
        f"(policy {report.schema_change_policy}); {len(report.problems)} files not cataloged")


def run(args: argparse.Namespace, lake: Lake) -> int:
    report = crawl_raw_zone(lake, args.schema_change_policy)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print_crawl_summary(report, new_console())
    return 0
