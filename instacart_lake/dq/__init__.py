"""Data quality in DQDL, the rule language of AWS Glue Data Quality, evaluated locally on Spark.

Rulesets are DQDL documents (`Rules = [ ... ]`, one file per table) that deploy unchanged as
`AWS::Glue::DataQualityRuleset` and run through `EvaluateDataQuality` on Glue. Locally:

    ruleset = load_ruleset("rulesets/orders.dqdl")
    result = evaluate(ruleset, orders_df, references={"users": users_df})
    result.score, [(r.rule, r.outcome, r.evaluated_metrics) for r in result]
    result.raise_for_stop()                               # stop the job on a failed stop rule
    conditions = row_level_conditions(ruleset, orders_df)  # rule -> Column, True = row passes
    rows = result.to_rows(run_id, "orders")                # rows of RESULTS_SCHEMA
    results_frame(spark, rows)                             # ... as a DataFrame to append

Supported rule types: RowCount, ColumnCount, ColumnExists, IsComplete, Completeness, IsUnique,
Uniqueness, IsPrimaryKey, ColumnValues, ColumnLength, DistinctValuesCount, Mean,
StandardDeviation, Sum, ReferentialIntegrity, CustomSql; composite rules with and/or;
`where` clauses and `with threshold`. Any other rule type is refused when the ruleset is
parsed. Pass/fail decisions, metric names (`Column.order_dow.Completeness`,
`Dataset.*.RowCount`, ...) and failure reasons follow Glue Data Quality.

Actions. DQDL has no syntax for what a failure does, so a ruleset says it in a comment on the
line (or lines) before the rule; Glue ignores comments, so the file stays valid DQDL:

    Rules = [
        IsPrimaryKey "order_id",                 # no annotation: stop (the default)
        # action: warn
        Mean "days_since_prior_order" between 5 and 20,
        # action: quarantine
        ColumnValues "order_dow" in [0, 1, 2, 3, 4, 5, 6]
    ]

- `stop` (default): the job must not commit; `RulesetResult.raise_for_stop()` raises
  QualityGateFailed.
- `warn`: the failure is reported (results table, metrics, log) and the job goes on.
- `quarantine`: the rows that fail the rule are set aside (see `row_level_conditions`) and the
  job goes on; only rules with row-level results may carry it.
An action comment belongs to the first rule that starts after it; a rule has at most one."""

from instacart_lake.dq.errors import DqdlError, DqdlSyntaxError, InvalidRuleError, UnsupportedRuleError
from instacart_lake.dq.evaluator import evaluate
from instacart_lake.dq.model import Action, CompositeRule, Condition, Rule, Ruleset, RulesetRule
from instacart_lake.dq.parser import load_ruleset, parse_ruleset
from instacart_lake.dq.results import RESULTS_SCHEMA, Outcome, RuleResult, RulesetResult, results_frame
from instacart_lake.dq.row_level import row_level_conditions

__all__ = [
    "RESULTS_SCHEMA",
    "Action",
    "CompositeRule",
    "Condition",
    "DqdlError",
    "DqdlSyntaxError",
    "InvalidRuleError",
    "Outcome",
    "Rule",
    "RuleResult",
    "Ruleset",
    "RulesetResult",
    "RulesetRule",
    "UnsupportedRuleError",
    "evaluate",
    "load_ruleset",
    "parse_ruleset",
    "results_frame",
    "row_level_conditions",
]
