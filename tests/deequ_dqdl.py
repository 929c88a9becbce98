"""Deequ's own DQDL engine (`com.amazon.deequ.dqdl.EvaluateDataQuality`, on the local session's
classpath) called through py4j, as a second opinion on `instacart_lake.dq`.

    results = evaluate_with_deequ(spark, 'Rules = [RowCount > 2]', df, {"orders": orders})
    [(r.rule, r.outcome, r.metrics, r.failure_reason) for r in results]

Two things the caller would otherwise trip over:
- Deequ returns its outcomes keyed by rule (a Scala Map), not in ruleset order, so the rules
  are put back in order with the DQDL parser Deequ uses (`software.amazon.glue.dqdl`), whose
  `DQRule.toString` is the `Rule` column of Deequ's output (the rule re-printed: `in [0,1]`,
  `AND`). Two identical rules share one result.
- Deequ runs a CustomSql statement on the session as it is: Glue's `primary` view (and the
  reference datasets' views) must exist, so they are registered for the call and dropped after.
Comments need no stripping: Deequ's parser skips `#` to the end of the line, so ruleset files
with `# action:` annotations go to it as they are. A rule Deequ's parser refuses raises
pyspark's IllegalArgumentException for the whole ruleset.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True)
class DeequRuleResult:
    rule: str
    outcome: str
    metrics: dict[str, float]
    failure_reason: str | None


def evaluate_with_deequ(
    spark: SparkSession, ruleset: str, df: DataFrame, references: dict[str, DataFrame] | None = None
) -> list[DeequRuleResult]:
    """Every rule of a DQDL document evaluated by Deequ on `df`, in ruleset order; `references`
    are the additional data sources (ReferentialIntegrity aliases, CustomSql views)."""
    references = references or {}
    jvm = spark._jvm
    sources = jvm.java.util.HashMap()
    for alias, reference in references.items():
        sources.put(alias, reference._jdf)
    scala_sources = jvm.org.apache.spark.api.python.PythonUtils.toScalaMap(sources)
    with _views(spark, {"primary": df, **references}):
        outcomes = DataFrame(
            jvm.com.amazon.deequ.dqdl.EvaluateDataQuality.process(df._jdf, ruleset, scala_sources), spark
        ).collect()
    by_rule = {
        row["Rule"]: DeequRuleResult(
            row["Rule"], row["Outcome"], dict(row["EvaluatedMetrics"] or {}), row["FailureReason"]
        )
        for row in outcomes
    }
    parsed = jvm.software.amazon.glue.dqdl.parser.DQDLParser().parse(ruleset).getRules()
    return [by_rule[parsed.get(index).toString()] for index in range(parsed.size())]


@contextmanager
def _views(spark: SparkSession, frames: dict[str, DataFrame]):
    for name, frame in frames.items():
        frame.createOrReplaceTempView(name)
    try:
        yield
    finally:
        for name in frames:
            spark.catalog.dropTempView(name)
