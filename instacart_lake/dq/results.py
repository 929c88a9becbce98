"""Results of evaluating a ruleset, shaped like Glue's `EvaluateDataQuality` output (Rule,
Outcome, FailureReason, EvaluatedMetrics) and `DataQualityRuleResult` (Name, Result
PASS/FAIL/ERROR), plus the action of each rule, their rows for a results table, and the
one line that tells a failed rule: table, rule as written, where it is written, what it
measured."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from instacart_lake.dq.model import Action
from instacart_lake.errors import QualityGateFailed


class Outcome(str, Enum):
    """`Passed` / `Failed` as in Glue's rule outcomes; `Error` when a rule could not be
    evaluated at all (invalid where clause or SQL, unknown reference dataset)."""

    PASSED = "Passed"
    FAILED = "Failed"
    ERROR = "Error"

    @property
    def api_result(self) -> str:
        """The `Result` value of Glue's DataQualityRuleResult: PASS, FAIL or ERROR."""
        return {"Passed": "PASS", "Failed": "FAIL", "Error": "ERROR"}[self.value]


@dataclass(frozen=True)
class RuleResult:
    name: str
    rule: str
    outcome: Outcome
    evaluated_metrics: dict[str, float] = field(default_factory=dict)
    failure_reason: str | None = None
    action: Action = Action.STOP
    line: int | None = None
    """The rule's line in its ruleset file, when known."""

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED


def failed_rule_line(table: str, rule: str, location: str | None, metrics: dict[str, float],
                     failure_reason: str | None) -> str:
    """`products: ColumnLength "product_name" between 0 and 501 at products.dqdl:8:
    MaximumLength 1,048,576, MinimumLength 3` on one line: what the rule measured, or, when it
    measured nothing (an empty table, a rule in error), why it did not pass."""
    at = f" at {location}" if location else ""
    return f"{table}: {rule}{at}: {_measured(metrics, failure_reason)}"


_EMPTY_STATE = "Empty state for analyzer "
"""How Glue words a metric with no value to measure (instacart_lake.dq.messages.empty_state)."""


def _measured(metrics: dict[str, float], failure_reason: str | None) -> str:
    if metrics:
        return ", ".join(f"{name.rsplit('.', 1)[-1]} {_number(value)}" for name, value in sorted(metrics.items()))
    reasons = (failure_reason or "no measurement").splitlines()
    if all(reason.startswith(_EMPTY_STATE) for reason in reasons):
        return "no values to measure (no rows, or all NULL)"
    return " ".join(" ".join(reasons).split())


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:.4g}"


RESULTS_SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType(), False),
        T.StructField("table_name", T.StringType(), False),
        T.StructField("ruleset", T.StringType(), False),
        T.StructField("rule_name", T.StringType(), False),
        T.StructField("rule", T.StringType(), False),
        T.StructField("outcome", T.StringType(), False),
        T.StructField("action", T.StringType(), False),
        T.StructField("failure_reason", T.StringType(), True),
        T.StructField("metric_name", T.StringType(), True),
        T.StructField("metric_value", T.DoubleType(), True),
    ]
)


@dataclass(frozen=True)
class RulesetResult(Sequence[RuleResult]):
    """The results of one ruleset run, in ruleset order; a sequence of `RuleResult`."""

    ruleset: str
    rule_results: tuple[RuleResult, ...]

    def __getitem__(self, index):
        return self.rule_results[index]

    def __len__(self) -> int:
        return len(self.rule_results)

    @property
    def score(self) -> float:
        """Share of rules that passed (Glue's `Score`); 1.0 for an empty ruleset."""
        if not self.rule_results:
            return 1.0
        return sum(result.passed for result in self.rule_results) / len(self.rule_results)

    def not_passed(self, action: Action) -> tuple[RuleResult, ...]:
        """The rules with this action that failed or could not be evaluated."""
        return tuple(result for result in self.rule_results if result.action is action and not result.passed)

    def raise_for_stop(self) -> None:
        """Raise QualityGateFailed if a rule with the stop action did not pass."""
        stopping = self.not_passed(Action.STOP)
        if stopping:
            reasons = "; ".join(f"{r.rule} ({r.outcome.value}: {r.failure_reason})" for r in stopping)
            raise QualityGateFailed(
                f"data quality ruleset {self.ruleset}: {len(stopping)} stop rule(s) failed: {reasons}"
            )

    def to_rows(self, run_id: str, table_name: str) -> list[dict]:
        """Rows for a results table (RESULTS_SCHEMA): one per rule and evaluated metric, or one
        row with no metric for a rule that reports none."""
        rows = []
        for result in self.rule_results:
            base = {
                "run_id": run_id,
                "table_name": table_name,
                "ruleset": self.ruleset,
                "rule_name": result.name,
                "rule": result.rule,
                "outcome": result.outcome.value,
                "action": result.action.value,
                "failure_reason": result.failure_reason,
            }
            metrics = sorted(result.evaluated_metrics.items()) or [(None, None)]
            rows.extend({**base, "metric_name": name, "metric_value": value} for name, value in metrics)
        return rows


def results_frame(spark: SparkSession, rows: list[dict]) -> DataFrame:
    """The rows of `RulesetResult.to_rows` (of one or more rulesets) as a results DataFrame."""
    return spark.createDataFrame(rows, RESULTS_SCHEMA)
