"""Rule outcomes, evaluated metrics and failure reasons as Glue Data Quality gives them, on
small explicit DataFrames. One ruleset is evaluated once per module; each case checks a rule."""

import pytest
from pyspark.sql import types as T

from instacart_lake.dq import RESULTS_SCHEMA, Action, Outcome, evaluate, parse_ruleset, results_frame
from instacart_lake.errors import QualityGateFailed

ORDERS_SCHEMA = T.StructType(
    [
        T.StructField("order_id", T.IntegerType()),
        T.StructField("user_id", T.IntegerType()),
        T.StructField("eval_set", T.StringType()),
        T.StructField("order_dow", T.IntegerType()),
        T.StructField("days_since_prior", T.DoubleType()),
        T.StructField("product_name", T.StringType()),
    ]
)
ORDERS = [
    (1, 10, "prior", 0, None, "Banana"),
    (2, 10, "prior", 3, 7.0, "Apple"),
    (3, 11, "train", 6, 30.0, "Banana"),
    (4, 12, "test", 2, 2.0, None),
    (5, 12, "prior", 6, 3.0, "  "),
    (6, 13, "prior", 1, 8.0, ""),
]
USERS = [(10, "prior"), (11, "train"), (12, "test")]

PASSED, FAILED, ERROR = Outcome.PASSED, Outcome.FAILED, Outcome.ERROR


def unmet(value: str) -> str:
    return f"Value: {value} does not meet the constraint requirement!"


# (rule, outcome, evaluated metrics, failure reason)
CASES = [
    ("RowCount = 6", PASSED, {"Dataset.*.RowCount": 6.0}, None),
    ("RowCount between 6 and 10", FAILED, {"Dataset.*.RowCount": 6.0}, unmet("6.0")),
    ("RowCount not between 6 and 10", PASSED, {"Dataset.*.RowCount": 6.0}, None),
    ("RowCount in [5, 6]", PASSED, {"Dataset.*.RowCount": 6.0}, None),
    ("RowCount > 4 where \"eval_set = 'prior'\"", FAILED, {"Dataset.*.RowCount": 4.0}, unmet("4.0")),
    ("ColumnCount = 6", PASSED, {"Dataset.*.ColumnCount": 6.0}, None),
    ('ColumnExists "order_id"', PASSED, {}, None),
    ('ColumnExists "aisle_id"', FAILED, {}, "Input data does not include column aisle_id!"),
    ('IsComplete "order_id"', PASSED, {"Column.order_id.Completeness": 1.0}, None),
    (
        'IsComplete "days_since_prior"',
        FAILED,
        {"Column.days_since_prior.Completeness": 5 / 6},
        unmet("0.8333333333333334"),
    ),
    ('Completeness "days_since_prior" > 0.8', PASSED, {"Column.days_since_prior.Completeness": 5 / 6}, None),
    (
        'Completeness "days_since_prior" >= 0.9',
        FAILED,
        {"Column.days_since_prior.Completeness": 5 / 6},
        unmet("0.8333333333333334"),
    ),
    (
        'Completeness "days_since_prior" = 1.0 where "order_id > 1"',
        PASSED,
        {"Column.days_since_prior.Completeness": 1.0},
        None,
    ),
    ('IsComplete "aisle_id"', FAILED, {}, "Input data does not include column aisle_id!"),
    ('IsUnique "order_id"', PASSED, {"Column.order_id.Uniqueness": 1.0}, None),
    ('IsUnique "user_id"', FAILED, {"Column.user_id.Uniqueness": 2 / 6}, unmet("0.3333333333333333")),
    ('Uniqueness "user_id" > 0.3', PASSED, {"Column.user_id.Uniqueness": 2 / 6}, None),
    ("IsUnique \"user_id\" where \"eval_set = 'prior'\"", FAILED, {"Column.user_id.Uniqueness": 0.5}, unmet("0.5")),
    ('IsUnique "user_id" "order_dow"', PASSED, {"Multicolumn.user_id,order_dow.Uniqueness": 1.0}, None),
    (
        'IsPrimaryKey "order_id"',
        PASSED,
        {"Column.order_id.Uniqueness": 1.0, "Column.order_id.Completeness": 1.0},
        None,
    ),
    (
        'IsPrimaryKey "user_id" "eval_set"',
        FAILED,
        {
            "Multicolumn.user_id,eval_set.Uniqueness": 4 / 6,
            "Column.user_id.Completeness": 1.0,
            "Column.eval_set.Completeness": 1.0,
        },
        unmet("0.6666666666666666"),
    ),
    (
        'IsPrimaryKey "order_id" "days_since_prior"',
        FAILED,
        {
            "Multicolumn.order_id,days_since_prior.Uniqueness": 1.0,
            "Column.order_id.Completeness": 1.0,
            "Column.days_since_prior.Completeness": 5 / 6,
        },
        unmet("0.8333333333333334"),
    ),
    ('ColumnValues "order_dow" >= 0', PASSED, {"Column.order_dow.Minimum": 0.0}, None),
    ('ColumnValues "order_dow" < 6', FAILED, {"Column.order_dow.Maximum": 6.0}, unmet("6.0")),
    (
        'ColumnValues "order_dow" = 6',
        FAILED,
        {"Column.order_dow.Minimum": 0.0, "Column.order_dow.Maximum": 6.0},
        unmet("0.0"),
    ),
    (
        'ColumnValues "days_since_prior" > 1',
        FAILED,
        {"Column.days_since_prior.Minimum": 2.0},
        "Value: NULL does not meet the constraint requirement!",
    ),
    (
        'ColumnValues "days_since_prior" <= 30 where "days_since_prior is not null"',
        PASSED,
        {"Column.days_since_prior.Maximum": 30.0},
        None,
    ),
    ('ColumnValues "order_dow" between -1 and 7', PASSED, {"Column.order_dow.ColumnValues.Compliance": 1.0}, None),
    (
        'ColumnValues "order_dow" between 0 and 6',
        FAILED,
        {"Column.order_dow.ColumnValues.Compliance": 0.5},
        unmet("0.5"),
    ),
    (
        'ColumnValues "days_since_prior" between 1 and 31',
        FAILED,
        {"Column.days_since_prior.ColumnValues.Compliance": 1.0},
        "Value: NULL does not meet the constraint requirement!",
    ),
    (
        'ColumnValues "order_dow" in [0, 1, 2, 3, 4, 5, 6]',
        PASSED,
        {"Column.order_dow.ColumnValues.Compliance": 1.0},
        None,
    ),
    (
        'ColumnValues "eval_set" in ["prior", "train", "test"]',
        PASSED,
        {"Column.eval_set.ColumnValues.Compliance": 1.0},
        None,
    ),
    (
        'ColumnValues "eval_set" in ["prior", "train"] with threshold > 0.8',
        PASSED,
        {"Column.eval_set.ColumnValues.Compliance": 5 / 6},
        None,
    ),
    (
        'ColumnValues "eval_set" in ["prior", "train"] with threshold > 0.9',
        FAILED,
        {"Column.eval_set.ColumnValues.Compliance": 5 / 6},
        unmet("0.8333333333333334"),
    ),
    (
        'ColumnValues "eval_set" in ["prior"] where "order_id < 3"',
        PASSED,
        {"Column.eval_set.ColumnValues.Compliance": 1.0},
        None,
    ),
    (
        'ColumnValues "eval_set" in ["prior"] with threshold > 0.7',
        FAILED,
        {"Column.eval_set.ColumnValues.Compliance": 4 / 6},
        unmet("0.6666666666666666"),
    ),
    (
        'ColumnValues "eval_set" = "prior"',
        FAILED,
        {"Column.eval_set.ColumnValues.Compliance": 4 / 6},
        unmet("0.6666666666666666"),
    ),
    (
        'ColumnValues "eval_set" != "test" where "order_id < 4"',
        PASSED,
        {"Column.eval_set.ColumnValues.Compliance": 1.0},
        None,
    ),
    (
        'ColumnValues "product_name" in ["Banana", "Apple", NULL, EMPTY, WHITESPACES_ONLY]',
        PASSED,
        {"Column.product_name.ColumnValues.Compliance": 1.0},
        None,
    ),
    (
        'ColumnValues "product_name" in ["Banana", "Apple"]',
        FAILED,
        {"Column.product_name.ColumnValues.Compliance": 0.5},
        unmet("0.5"),
    ),
    (
        'ColumnValues "product_name" not in ["Banana", NULL]',
        FAILED,
        {"Column.product_name.ColumnValues.Compliance": 0.5},
        unmet("0.5"),
    ),
    (
        'ColumnValues "product_name" not in ["Banana"] with threshold >= 0.66',
        PASSED,
        {"Column.product_name.ColumnValues.Compliance": 4 / 6},
        None,
    ),
    (
        'ColumnValues "product_name" != NULL with threshold > 0.8',
        PASSED,
        {"Column.product_name.ColumnValues.Compliance": 5 / 6},
        None,
    ),
    (
        'ColumnValues "product_name" matches "[A-Z][a-z]+"',
        FAILED,
        {"Column.product_name.PatternMatch": 0.5},
        unmet("0.5"),
    ),
    (
        'ColumnValues "product_name" matches "[A-Z][a-z]+" where "order_id <= 3"',
        PASSED,
        {"Column.product_name.PatternMatch": 1.0},
        None,
    ),
    (
        'ColumnValues "product_name" not matches "[0-9]+" with threshold > 0.8',
        PASSED,
        {"Column.product_name.ColumnValues.Compliance": 5 / 6},
        None,
    ),
    (
        'ColumnLength "eval_set" between 3 and 6',
        PASSED,
        {"Column.eval_set.MinimumLength": 4.0, "Column.eval_set.MaximumLength": 5.0},
        None,
    ),
    (
        'ColumnLength "eval_set" = 5',
        FAILED,
        {"Column.eval_set.MinimumLength": 4.0, "Column.eval_set.MaximumLength": 5.0},
        unmet("4.0"),
    ),
    ('ColumnLength "product_name" > 0', FAILED, {"Column.product_name.MinimumLength": 0.0}, unmet("0.0")),
    ('ColumnLength "product_name" <= 6', PASSED, {"Column.product_name.MaximumLength": 6.0}, None),
    (
        'ColumnLength "product_name" in [5, 6]',
        FAILED,
        {"Column.product_name.LengthCompliance": 0.5},
        unmet("0.5"),
    ),
    (
        'ColumnLength "product_name" in [5, 6] with threshold >= 0.5',
        PASSED,
        {
            "Column.product_name.MinimumLength": 0.0,
            "Column.product_name.MaximumLength": 6.0,
            "Column.product_name.LengthCompliance": 0.5,
        },
        None,
    ),
    (
        'ColumnLength "order_id" > 0',
        FAILED,
        {},
        "Expected type of column order_id to be StringType, but found IntegerType instead!",
    ),
    ('DistinctValuesCount "eval_set" = 3', PASSED, {"Column.eval_set.DistinctValuesCount": 3.0}, None),
    ('DistinctValuesCount "product_name" = 5', PASSED, {"Column.product_name.DistinctValuesCount": 5.0}, None),
    (
        "DistinctValuesCount \"user_id\" > 3 where \"eval_set = 'prior'\"",
        FAILED,
        {"Column.user_id.DistinctValuesCount": 3.0},
        unmet("3.0"),
    ),
    ('Mean "days_since_prior" = 10', PASSED, {"Column.days_since_prior.Mean": 10.0}, None),
    ('Mean "days_since_prior" between 9 and 10', FAILED, {"Column.days_since_prior.Mean": 10.0}, unmet("10.0")),
    ('Sum "order_dow" = 18', PASSED, {"Column.order_dow.Sum": 18.0}, None),
    ("Sum \"order_dow\" < 10 where \"eval_set = 'prior'\"", FAILED, {"Column.order_dow.Sum": 10.0}, unmet("10.0")),
    ('StandardDeviation "order_id" > 1.7', PASSED, {"Column.order_id.StandardDeviation": 1.707825127659933}, None),
    (
        'StandardDeviation "order_id" < 1.5',
        FAILED,
        {"Column.order_id.StandardDeviation": 1.707825127659933},
        unmet("1.707825127659933"),
    ),
    (
        'Mean "eval_set" > 0',
        FAILED,
        {},
        "Expected type of column eval_set to be one of (ByteType,ShortType,IntegerType,LongType,FloatType,"
        "DoubleType,DecimalType), but found StringType instead!",
    ),
    (
        '(IsComplete "order_id") and (ColumnValues "order_dow" <= 6)',
        PASSED,
        {"Column.order_id.Completeness": 1.0, "Column.order_dow.Maximum": 6.0},
        None,
    ),
    (
        '(IsComplete "days_since_prior") and (IsUnique "order_id")',
        FAILED,
        {"Column.days_since_prior.Completeness": 5 / 6, "Column.order_id.Uniqueness": 1.0},
        unmet("0.8333333333333334"),
    ),
    (
        '(IsComplete "days_since_prior") or (IsUnique "order_id")',
        PASSED,
        {"Column.days_since_prior.Completeness": 5 / 6, "Column.order_id.Uniqueness": 1.0},
        unmet("0.8333333333333334"),
    ),
    (
        '(RowCount > 100) or ((IsComplete "order_id") and (IsUnique "user_id"))',
        FAILED,
        {"Dataset.*.RowCount": 6.0, "Column.order_id.Completeness": 1.0, "Column.user_id.Uniqueness": 2 / 6},
        unmet("6.0") + "\n" + unmet("0.3333333333333333"),
    ),
    (
        '(ColumnExists "aisle_id") or (IsComplete "bogus")',
        FAILED,
        {},
        "Input data does not include column aisle_id!\nInput data does not include column bogus!",
    ),
]


@pytest.fixture(scope="module")
def orders(spark):
    return spark.createDataFrame(ORDERS, ORDERS_SCHEMA)


@pytest.fixture(scope="module")
def results(orders):
    ruleset = parse_ruleset("Rules = [\n" + ",\n".join(rule for rule, *_ in CASES) + "\n]", "orders.dqdl")
    return {result.rule: result for result in evaluate(ruleset, orders)}


@pytest.mark.parametrize(("rule", "outcome", "metrics", "reason"), CASES, ids=[case[0] for case in CASES])
def test_rule_outcome_metrics_and_reason(results, rule, outcome, metrics, reason):
    result = results[rule]
    assert result.outcome is outcome
    assert result.evaluated_metrics == pytest.approx(metrics)
    assert result.failure_reason == reason


def test_glue_documented_composite_example_fails_column_by_column(spark):
    """The example of Glue's "How Composite rules work": each part fails on the whole column."""
    data = spark.createDataFrame([(2, 1), (0, 3)], "myCol1 int, myCol2 int")
    ruleset = parse_ruleset('Rules = [ (ColumnValues "myCol1" > 1) OR (ColumnValues "myCol2" > 2) ]', "glue.dqdl")
    (result,) = evaluate(ruleset, data)
    assert result.outcome is FAILED
    assert result.evaluated_metrics == {"Column.myCol1.Minimum": 0.0, "Column.myCol2.Minimum": 1.0}
    assert result.failure_reason == unmet("0.0") + "\n" + unmet("1.0")


def test_glue_documented_null_behaviours(spark):
    """Null behaviour sections of the Sum, ColumnValues and ColumnLength rule references."""
    data = spark.createDataFrame(
        [
            (100, 0, 25, "98101"),
            (101, None, None, None),
            (102, 20, 21, "981"),
            (103, None, 23, "98102"),
            (104, 40, 30, "981"),
        ],
        "id int, units int, age int, postal_code string",
    )
    ruleset = parse_ruleset(
        """Rules = [
            Sum "units" = 60,
            ColumnValues "age" != 21,
            ColumnValues "age" not in [21, 22, 23, NULL],
            ColumnLength "postal_code" < 6,
            ColumnLength "postal_code" > 2
        ]""",
        "nulls.dqdl",
    )
    outcomes = {result.rule: (result.outcome, result.evaluated_metrics) for result in evaluate(ruleset, data)}
    assert outcomes == {
        'Sum "units" = 60': (PASSED, {"Column.units.Sum": 60.0}),
        'ColumnValues "age" != 21': (FAILED, {"Column.age.ColumnValues.Compliance": 0.8}),
        'ColumnValues "age" not in [21, 22, 23, NULL]': (FAILED, {"Column.age.ColumnValues.Compliance": 0.4}),
        'ColumnLength "postal_code" < 6': (PASSED, {"Column.postal_code.MaximumLength": 5.0}),
        'ColumnLength "postal_code" > 2': (FAILED, {"Column.postal_code.MinimumLength": 0.0}),
    }


def test_invalid_where_clauses_are_errors(orders):
    ruleset = parse_ruleset(
        """Rules = [
            IsComplete "order_id" where "no_such_column > 1",
            Completeness "order_id" > 0.5 where "order_id + 1",
            (IsComplete "order_id" where "(") or (RowCount > 0),
            (IsComplete "order_id" where "(") and (RowCount < 0)
        ]""",
        "where.dqdl",
    )
    missing, not_boolean, either, both = evaluate(ruleset, orders)
    assert missing.outcome is ERROR
    assert missing.failure_reason.startswith(
        'Rule IsComplete "order_id" where "no_such_column > 1" has provided an invalid where clause : '
        "[UNRESOLVED_COLUMN.WITH_SUGGESTION]"
    )
    assert (not_boolean.outcome, not_boolean.failure_reason) == (
        ERROR,
        'Rule Completeness "order_id" > 0.5 where "order_id + 1" has provided an invalid where clause : '
        "order_id + 1 is not a Boolean expression",
    )
    assert (either.outcome, either.evaluated_metrics) == (PASSED, {"Dataset.*.RowCount": 6.0})
    assert both.outcome is FAILED


def test_referential_integrity_against_reference_dataframes(spark, orders):
    users = spark.createDataFrame(USERS, "user_id int, last_eval_set string")
    ruleset = parse_ruleset(
        """Rules = [
            ReferentialIntegrity "user_id" "users.user_id" >= 0.8,
            ReferentialIntegrity "user_id" "users.user_id" = 1.0,
            ReferentialIntegrity "user_id,eval_set" "users.{user_id,last_eval_set}" between 0.6 and 0.7,
            ReferentialIntegrity "user_id" "ghosts.user_id" > 0.5,
            ReferentialIntegrity "user_id" "users.id" > 0.5,
            ReferentialIntegrity "customer_id" "users.user_id" > 0.5
        ]""",
        "ri.dqdl",
    )
    summary = [
        (result.outcome, result.evaluated_metrics, result.failure_reason)
        for result in evaluate(ruleset, orders, references={"users": users})
    ]
    assert summary == [
        (PASSED, {"Column.users.ReferentialIntegrity": pytest.approx(5 / 6)}, None),
        (FAILED, {"Column.users.ReferentialIntegrity": pytest.approx(5 / 6)}, unmet("0.8333333333333334")),
        (PASSED, {"Column.users.ReferentialIntegrity": pytest.approx(4 / 6)}, None),
        (ERROR, {}, "ghosts not found in additional sources"),
        (FAILED, {}, "Column id does not exist in reference data frame."),
        (FAILED, {}, "Column customer_id does not exist in primary data frame."),
    ]


def test_custom_sql_single_value_and_row_level_forms(spark, orders):
    users = spark.createDataFrame(USERS, "user_id int, last_eval_set string")
    ruleset = parse_ruleset(
        """Rules = [
            CustomSql "select count(*) from primary where eval_set = 'prior'" between 3 and 5,
            CustomSql "select max(days_since_prior) from primary" < 30,
            CustomSql "select count(*) from primary p left anti join users u on p.user_id = u.user_id" = 0,
            CustomSql "select order_id from primary where order_dow < 6",
            CustomSql "select order_id, user_id from primary where order_dow < 6" with threshold > 0.6,
            CustomSql "select order_id, 1 as flag from primary",
            CustomSql "select order_id, user_id from primarry",
            CustomSql "select order_id from primary" > 0
        ]""",
        "sql.dqdl",
    )
    summary = [
        (result.outcome, result.evaluated_metrics, result.failure_reason)
        for result in evaluate(ruleset, orders, references={"users": users})
    ]
    assert summary[:6] == [
        (PASSED, {"Dataset.*.CustomSQL": 4.0}, None),
        (FAILED, {"Dataset.*.CustomSQL": 30.0}, unmet("30.0")),
        (FAILED, {"Dataset.*.CustomSQL": 1.0}, unmet("1.0")),
        (FAILED, {"Dataset.*.CustomSQL.Compliance": pytest.approx(4 / 6)}, unmet("0.6666666666666666")),
        (PASSED, {"Dataset.*.CustomSQL.Compliance": pytest.approx(4 / 6)}, None),
        (
            FAILED,
            {},
            "The columns returned from the SQL statement should only belong to the primary table. "
            "Columns not found: flag",
        ),
    ]
    assert summary[6][0] is ERROR
    assert summary[6][2].startswith("Error executing SQL statement: [TABLE_OR_VIEW_NOT_FOUND]")
    assert summary[7] == (ERROR, {}, "Custom SQL did not return exactly one row with one column")
    assert not spark.catalog.tableExists("primary")


def test_custom_sql_keeps_the_caches_of_its_data(spark, orders):
    primary = orders.where("eval_set = 'prior'").persist()
    users = spark.createDataFrame(USERS, "user_id int, last_eval_set string").persist()
    ruleset = parse_ruleset('Rules = [ CustomSql "select count(*) from primary p join users u using (user_id)" = 3 ]',
                            "cached.dqdl")
    try:
        [result] = evaluate(ruleset, primary, references={"users": users})
        assert (result.outcome, result.evaluated_metrics) == (PASSED, {"Dataset.*.CustomSQL": 3.0})
        assert primary.storageLevel.useMemory and users.storageLevel.useMemory
        assert not spark.catalog.tableExists("primary") and not spark.catalog.tableExists("users")
    finally:
        primary.unpersist()
        users.unpersist()


def test_empty_data(spark):
    empty = spark.createDataFrame([], "id int, name string")
    users = spark.createDataFrame([(1,)], "id int")
    ruleset = parse_ruleset(
        """Rules = [
            RowCount = 0,
            IsComplete "name",
            ColumnValues "id" > 0,
            ReferentialIntegrity "id" "users.id" = 1.0,
            CustomSql "select id from primary"
        ]""",
        "empty.dqdl",
    )
    summary = [(r.outcome, r.evaluated_metrics, r.failure_reason) for r in evaluate(ruleset, empty, {"users": users})]
    assert summary == [
        (PASSED, {"Dataset.*.RowCount": 0.0}, None),
        (FAILED, {}, "Empty state for analyzer Completeness(name), all input values were NULL."),
        (FAILED, {}, "Empty state for analyzer Minimum, all input values were NULL."),
        (FAILED, {}, "Primary data frame contains no data."),
        (FAILED, {}, "Custom SQL rule could not be evaluated due to data frame being empty"),
    ]


def test_score_actions_gate_and_results_rows(spark, orders):
    ruleset = parse_ruleset(
        """Rules = [
            IsPrimaryKey "order_id",
            # action: warn
            IsComplete "days_since_prior",
            # action: quarantine
            ColumnValues "order_dow" in [0, 1, 2, 3, 4, 5],
            ColumnExists "eval_set"
        ]""",
        "orders.dqdl",
    )
    result = evaluate(ruleset, orders)
    assert [(r.name, r.outcome, r.action) for r in result] == [
        ("Rule_1", PASSED, Action.STOP),
        ("Rule_2", FAILED, Action.WARN),
        ("Rule_3", FAILED, Action.QUARANTINE),
        ("Rule_4", PASSED, Action.STOP),
    ]
    assert result.score == 0.5
    assert [r.outcome.api_result for r in result] == ["PASS", "FAIL", "FAIL", "PASS"]
    assert [r.rule for r in result.not_passed(Action.WARN)] == ['IsComplete "days_since_prior"']
    result.raise_for_stop()
    base = {"run_id": "run-1", "table_name": "orders", "ruleset": "orders.dqdl"}
    assert result.to_rows("run-1", "orders") == [
        {**base, "rule_name": "Rule_1", "rule": 'IsPrimaryKey "order_id"', "outcome": "Passed", "action": "stop",
         "failure_reason": None, "metric_name": "Column.order_id.Completeness", "metric_value": 1.0},
        {**base, "rule_name": "Rule_1", "rule": 'IsPrimaryKey "order_id"', "outcome": "Passed", "action": "stop",
         "failure_reason": None, "metric_name": "Column.order_id.Uniqueness", "metric_value": 1.0},
        {**base, "rule_name": "Rule_2", "rule": 'IsComplete "days_since_prior"', "outcome": "Failed",
         "action": "warn", "failure_reason": unmet("0.8333333333333334"),
         "metric_name": "Column.days_since_prior.Completeness", "metric_value": pytest.approx(5 / 6)},
        {**base, "rule_name": "Rule_3", "rule": 'ColumnValues "order_dow" in [0, 1, 2, 3, 4, 5]',
         "outcome": "Failed", "action": "quarantine", "failure_reason": unmet("0.6666666666666666"),
         "metric_name": "Column.order_dow.ColumnValues.Compliance", "metric_value": pytest.approx(4 / 6)},
        {**base, "rule_name": "Rule_4", "rule": 'ColumnExists "eval_set"', "outcome": "Passed", "action": "stop",
         "failure_reason": None, "metric_name": None, "metric_value": None},
    ]
    frame = results_frame(spark, result.to_rows("run-1", "orders"))
    assert frame.schema == RESULTS_SCHEMA
    assert sorted((row.rule_name, row.metric_name) for row in frame.where("outcome = 'Failed'").collect()) == [
        ("Rule_2", "Column.days_since_prior.Completeness"),
        ("Rule_3", "Column.order_dow.ColumnValues.Compliance"),
    ]


def test_a_failed_stop_rule_stops_the_job(orders):
    ruleset = parse_ruleset('Rules = [ IsComplete "order_id", IsUnique "user_id" ]', "orders.dqdl")
    result = evaluate(ruleset, orders)
    with pytest.raises(QualityGateFailed) as raised:
        result.raise_for_stop()
    assert str(raised.value) == (
        'data quality ruleset orders.dqdl: 1 stop rule(s) failed: IsUnique "user_id" '
        f"(Failed: {unmet('0.3333333333333333')})"
    )


def test_dates_compare_with_date_strings_and_now(spark):
    deliveries = spark.createDataFrame(
        [(1, "2024-02-01"), (2, "2024-03-15"), (3, None)], "id int, delivered string"
    ).selectExpr("id", "to_date(delivered) AS delivered_on")
    ruleset = parse_ruleset(
        """Rules = [
            ColumnValues "delivered_on" > "2024-01-31" with threshold > 0.6,
            ColumnValues "delivered_on" between "2024-01-01" and "2024-03-01",
            ColumnValues "delivered_on" <= now(),
            ColumnValues "delivered_on" > (now() - 3 days)
        ]""",
        "dates.dqdl",
    )
    summary = [(r.outcome, r.evaluated_metrics) for r in evaluate(ruleset, deliveries)]
    assert summary == [
        (PASSED, {"Column.delivered_on.ColumnValues.Compliance": pytest.approx(2 / 3)}),
        (FAILED, {"Column.delivered_on.ColumnValues.Compliance": pytest.approx(1 / 3)}),
        (FAILED, {"Column.delivered_on.ColumnValues.Compliance": pytest.approx(2 / 3)}),
        (FAILED, {"Column.delivered_on.ColumnValues.Compliance": 0.0}),
    ]
