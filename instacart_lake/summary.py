"""The short summary a run ends with: per stage and table, rows in, out and rejected, and time;
the run's timeline (every job run with its id, start, end, state and the event that started
it); each data-quality rule that failed without stopping the run (a warning), on a line of its
own; then, when the run evaluated a model version, its evaluation on the validation users."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from instacart_lake.dq.results import failed_rule_line
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
    print_timeline(record, console)
    print_failed_rules(record, console)
    for stage in record.stages:
        if "evaluation" in stage.details:
            print_evaluation(stage.details["model_version"], stage.details["evaluation"], console)


def print_timeline(record: RunRecord, console: Console) -> None:
    table = Table("stage", "job run", "state", "started", "ended", "started by", title="timeline")
    for stage in record.stages:
        table.add_row(stage.stage, stage.job_run_id or "", stage.state or stage.outcome, stage.started_at,
                      stage.finished_at or "", stage.started_by or "")
    console.print(table)


def failed_rules(record: RunRecord) -> list[str]:
    """`<stage>: <action> rule failed: <table>: <rule> at <file:line>: <measured>` for each rule
    of a stage's quality gates that did not pass."""
    return [f"{stage.stage}: {rule['action']} rule failed: "
            + failed_rule_line(name, rule["rule"], rule.get("location"), rule["metrics"], rule["failure_reason"])
            for stage in record.stages for name, counts in stage.tables.items()
            for rule in counts.get("rules", ()) if rule["outcome"] != "Passed"]


def print_failed_rules(record: RunRecord, console: Console) -> None:
    for line in failed_rules(record):
        console.print(line, style="yellow", markup=False, highlight=False, soft_wrap=True)


EVALUATION_ROWS = (
    ("f1_threshold", "threshold {threshold}"),
    ("f1_expected_f1", "expected-F1 baskets"),
    ("f1_oracle", "oracle (true probabilities)"),
    ("f1_last_order_reorders", "last order's reorders"),
)


def print_evaluation(model_version: str, evaluation: dict, console: Console) -> None:
    """The mean F1 of the four ways to choose baskets side by side, then AUC and log loss."""
    table = Table("baskets", "mean F1", title=f"model {model_version} on {evaluation['orders']:,} validation orders")
    for key, label in EVALUATION_ROWS:
        table.add_row(label.format(**evaluation), _score(evaluation[key]))
    table.add_section()
    table.add_row("expected-F1 / oracle", _score(evaluation["expected_f1_to_oracle"]))
    table.add_row("ROC AUC", _score(evaluation["roc_auc"]))
    table.add_row("log loss", _score(evaluation["log_loss"]))
    console.print(table)


def _score(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _count(value) -> str:
    return "" if value is None else f"{value:,}"
