"""The evaluator computes all simple rules in one aggregation: the number of Spark jobs does
not grow with the number of rules, uniqueness rules share one grouping pass per column set,
and ReferentialIntegrity against few keys adds no pass over the data. Jobs are counted with a
job group around `evaluate` and Spark's status tracker; passes over the data with an
accumulator that a filter on it adds to."""

import uuid

import pytest
from pyspark.sql import functions as F

from instacart_lake.dq import evaluate, parse_ruleset

SIMPLE_RULE_TEMPLATES = [
    'Completeness "{n}" > 0.5',
    'IsComplete "{n}"',
    'Mean "{n}" > -1000',
    'Sum "{n}" > -100000',
    'StandardDeviation "{n}" >= 0',
    'ColumnValues "{n}" > -1000',
    'ColumnValues "{n}" between -1000 and 1000',
    'ColumnValues "{n}" in [1, 2, 3] with threshold > 0.1',
    'DistinctValuesCount "{n}" > 1',
    'Completeness "{n}" > 0.5 where "{n} > 3"',
    'Mean "{n}" < 1000 where "label != \'x\'"',
]
STRING_RULES = [
    'ColumnLength "label" between 0 and 10',
    'ColumnLength "label" <= 3 with threshold > 0.5',
    'ColumnValues "label" matches "[a-z]+"',
    'ColumnValues "label" in ["a", "b"] where "amount > 2"',
    'DistinctValuesCount "label" > 1',
    "RowCount > 0",
    "RowCount > 0 where \"label = 'a'\"",
    "ColumnCount = 3",
]


@pytest.fixture(scope="module")
def data(spark):
    rows = [(i, float(i % 7), "abc"[i % 3]) for i in range(30)]
    return spark.createDataFrame(rows, "quantity int, amount double, label string")


def spark_jobs(spark, action) -> int:
    context = spark.sparkContext
    group = f"dq-passes-{uuid.uuid4().hex}"
    context.setJobGroup(group, "Spark jobs of one data quality evaluation")
    try:
        action()
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
        context.setLocalProperty("spark.job.description", None)
    return len(context.statusTracker().getJobIdsForGroup(group))


def jobs_of(spark, data, rules: list[str]) -> int:
    ruleset = parse_ruleset("Rules = [\n" + ",\n".join(rules) + "\n]", "passes.dqdl")
    results = []
    count = spark_jobs(spark, lambda: results.extend(evaluate(ruleset, data)))
    assert len(results) == len(rules)
    return count


def test_simple_rules_share_one_aggregation_whatever_their_number(spark, data):
    few = ["RowCount > 0", 'Completeness "amount" > 0.5', 'DistinctValuesCount "label" > 1']
    many = [template.format(n=name) for name in ("quantity", "amount") for template in SIMPLE_RULE_TEMPLATES]
    many += STRING_RULES
    assert len(many) == 30
    few_jobs, many_jobs = jobs_of(spark, data, few), jobs_of(spark, data, many)
    assert 1 <= few_jobs <= 3
    assert many_jobs == few_jobs


def test_uniqueness_rules_share_one_grouping_pass_per_column_set(spark, data):
    one_set = jobs_of(spark, data, ["RowCount > 0", 'IsUnique "quantity"'])
    same_set = jobs_of(
        spark,
        data,
        [
            "RowCount > 0",
            'IsUnique "quantity"',
            'Uniqueness "quantity" > 0.5 where "amount > 1"',
            'IsPrimaryKey "quantity"',
            '(IsUnique "quantity" where "label = \'a\'") and (Completeness "quantity" > 0.9)',
        ],
    )
    two_sets = jobs_of(spark, data, ["RowCount > 0", 'IsUnique "quantity"', 'IsUnique "label" "amount"'])
    assert same_set == one_set
    assert two_sets > one_set


def test_referential_integrity_against_few_keys_is_measured_in_the_aggregate_pass(spark, data):
    scans = spark.sparkContext.accumulator(0)

    def scanned(_):
        scans.add(1)
        return True

    # nondeterministic: the optimizer may not copy the filter to the reference side of a join
    counted = data.where(F.udf(scanned, "boolean").asNondeterministic()("quantity"))

    references = {
        "tens": spark.createDataFrame([(i,) for i in range(10)], "quantity int"),
        "labels": spark.createDataFrame([("a",), ("b",), ("b",)], "label string"),
    }
    ruleset = parse_ruleset(
        'Rules = [\n RowCount > 0,\n ReferentialIntegrity "quantity" "tens.quantity" between 0.3 and 0.4,\n'
        ' ReferentialIntegrity "label" "labels.label" = 1.0,\n Mean "amount" > 0\n]', "passes.dqdl")
    result = evaluate(ruleset, counted, references)
    metrics = [rule.evaluated_metrics for rule in result]
    assert metrics[1] == {"Column.tens.ReferentialIntegrity": pytest.approx(10 / 30)}
    assert metrics[2] == {"Column.labels.ReferentialIntegrity": pytest.approx(20 / 30)}
    assert [rule.passed for rule in result] == [True, True, False, True]
    assert scans.value == data.count()
