"""The short summary a run ends with: per stage and table, rows in, out and rejected, and time."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from instacart_lake.runs import RunRecord

_COUNT_COLUMNS = ("rows_read", "rows_written", "rows_rejected")


def print_run_summary(record: RunRecord, console: Console) -> None:
    table = Table("stage", "table", "rows in", "rows out", "rejected", "seconds", "outcome",
                  title=f"run {record.run_id} — {record.outcome}")
    for stage in record.stages:
        rows = stage.tables.items() or [("", {})]
        for index, (name, counts) in enumerate(rows):
            cells = [_count(counts.get(column)) for column in _COUNT_COLUMNS]
            first = index == 0
            table.add_row(stage.stage if first else "", name, *cells,
                          f"{stage.seconds:.1f}" if first else "", stage.outcome if first else "")
        if stage.error:
            table.add_row("", f"[red]{stage.error}[/red]", "", "", "", "", "")
    console.print(table)


def _count(value) -> str:
    return "" if value is None else f"{value:,}"
