"""The pipeline's rulesets on the edge cases of real runs: what must stop a job, and what only warns."""

from __future__ import annotations

from instacart_lake.dq import Action, load_ruleset
from instacart_lake.dq import evaluate as evaluate_ruleset
from instacart_lake.jobs.quality_gate import RULESETS_DIR, stop_failures

PRD_FEATURES = ("product_id long, prod_orders long, prod_reorders long, prod_first_orders long, "
                "prod_second_orders long, prod_reorder_probability double, prod_reorder_times double, "
                "prod_reorder_ratio double")


def test_a_product_left_with_only_reorders_warns_and_does_not_stop_job_2(spark):
    """Its first-purchase lines were quarantined with their orders: every line left is a reorder."""
    features = spark.createDataFrame([(1, 4, 2, 2, 1, 0.5, 2.0, 0.5), (2, 3, 3, 1, 1, 1.0, 4.0, 1.0)], PRD_FEATURES)
    products = spark.createDataFrame([(1,), (2,)], "product_id long")

    result = evaluate_ruleset(load_ruleset(RULESETS_DIR / "curated" / "prd_features.dqdl"), features,
                              {"products": products})

    assert stop_failures({"prd_features": result}) == []
    warned = [(rule.rule, rule.outcome.value) for rule in result.not_passed(Action.WARN)]
    assert warned == [('ColumnValues "prod_reorder_ratio" < 1', "Failed")]


def test_a_reorder_ratio_above_one_stops_job_2(spark):
    features = spark.createDataFrame([(1, 2, 3, 1, 1, 1.0, 4.0, 1.5)], PRD_FEATURES)
    products = spark.createDataFrame([(1,)], "product_id long")

    result = evaluate_ruleset(load_ruleset(RULESETS_DIR / "curated" / "prd_features.dqdl"), features,
                              {"products": products})

    assert any("prod_reorder_ratio" in failure for failure in stop_failures({"prd_features": result}))
