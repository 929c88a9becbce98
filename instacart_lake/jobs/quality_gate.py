"""The data-quality gate that every job runs before it commits: each table's DQDL ruleset
is evaluated on the table as it would be committed, the results are appended to the
`dq_results` table and emitted as metrics (also when the gate stops the job: results of a
failed gate are the ones analysts need), and the failed rules with the stop action are returned,
each as one line of the failure message (gate_failure): table, rule as written, `file:line` of
the rule, what it measured (no passing rule, no multi-line failure reason)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from instacart_lake.context import Lake
from instacart_lake.dq import Action, Ruleset, RulesetResult, evaluate, load_ruleset, results_frame
from instacart_lake.dq.results import RuleResult, failed_rule_line
from instacart_lake.jobs.phases import PhaseClock
from instacart_lake.monitoring import gate_records, write_emf_lines
from instacart_lake.registration import register_delta_table

RULESETS_DIR = Path(__file__).resolve().parent.parent / "rulesets"
DQ_RESULTS_TABLE = "dq_results"


def evaluate_gate(
    spark: SparkSession,
    lake: Lake,
    table_io,
    job_name: str,
    run_id: str,
    frames: dict[str, DataFrame],
    rulesets_dir: Path,
    references: dict[str, DataFrame],
    clock: PhaseClock | None = None,
) -> dict[str, RulesetResult]:
    """Evaluate `<rulesets_dir>/<table>.dqdl` on each frame and record the results (with
    `clock`, the seconds of each table's evaluation as its phase `gate`)."""
    rulesets = {name: load_ruleset(rulesets_dir / f"{name}.dqdl") for name in frames}
    clock = clock or PhaseClock(spark, job_name)
    results = {}
    for name, frame in frames.items():
        with clock.phase(name, "gate"):
            results[name] = _with_lines(evaluate(rulesets[name], frame, references), rulesets[name])
    if results:
        write_emf_lines(lake, run_id, gate_records(job_name, run_id, results))
    rows = [row for name, result in results.items() for row in result.to_rows(run_id, name)]
    if rows:
        table = results_frame(spark, rows)
        table_io.write(table, lake.locations.table_uri("clean", DQ_RESULTS_TABLE), mode="append",
                       run_id=run_id, job_name=job_name)
        register_delta_table(lake, "clean", DQ_RESULTS_TABLE, table.schema,
                             "one row per data-quality rule, metric, table and run")
    return results


def _with_lines(result: RulesetResult, ruleset: Ruleset) -> RulesetResult:
    """The results with the line of each rule in its file (results are in ruleset order)."""
    return replace(result, rule_results=tuple(replace(rule_result, line=rule.line)
                                              for rule_result, rule in zip(result, ruleset.rules)))


def rule_location(result: RulesetResult, rule: RuleResult) -> str | None:
    """`products.dqdl:8`: the ruleset file and the rule's line in it."""
    return None if rule.line is None else f"{Path(result.ruleset).name}:{rule.line}"


def stop_failures(results: dict[str, RulesetResult]) -> list[str]:
    """One line (instacart_lake.dq.results.failed_rule_line) per failed rule whose action is stop."""
    return [failed_rule_line(name, rule.rule, rule_location(result, rule), rule.evaluated_metrics,
                             rule.failure_reason)
            for name, result in results.items() for rule in result.not_passed(Action.STOP)]


def gate_failure(summary: str, failed: list[str]) -> str:
    """A stopped gate's message: the summary, then one indented line per failed rule."""
    return summary + ":" + "".join(f"\n  {line}" for line in failed)


def rule_outcomes(result: RulesetResult | None) -> list[dict]:
    """The outcome of every rule, as the run record keeps it."""
    return [{"rule": r.rule, "outcome": r.outcome.value, "action": r.action.value,
             "metrics": r.evaluated_metrics, "failure_reason": r.failure_reason,
             "location": rule_location(result, r)}
            for r in result or ()]


ROW_COUNT_METRIC = "Dataset.*.RowCount"


def measured_row_count(result: RulesetResult) -> int | None:
    """The row count a RowCount rule measured, so that no extra pass counts the rows."""
    return next((int(rule.evaluated_metrics[ROW_COUNT_METRIC]) for rule in result
                 if ROW_COUNT_METRIC in rule.evaluated_metrics), None)


@dataclass
class GatedTableRun:
    """A table a job wrote after its gate passed: rows written (as the gate's RowCount rule
    measured them), the Delta version, and the gate's results."""

    name: str
    rows_written: int | None
    version: int | None
    quality: RulesetResult

    def counts(self) -> dict:
        return {"rows_written": self.rows_written, "version": self.version,
                "quality_score": self.quality.score, "rules": rule_outcomes(self.quality)}
