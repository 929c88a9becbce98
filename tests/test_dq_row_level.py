"""Row-level outcomes: one pass/fail Column per row-level rule, as Glue labels rows."""

import pytest
from chispa import assert_df_equality
from pyspark.sql import Row

from instacart_lake.dq import Action, evaluate, parse_ruleset, row_level_conditions
from instacart_lake.errors import LakeError

RULES = [
    'ColumnValues "age" > 21',
    'ColumnValues "age" != 21',
    'ColumnValues "age" not in [21, NULL]',
    'ColumnValues "name" in ["a", EMPTY]',
    'ColumnValues "name" matches "[a-z]+"',
    'ColumnLength "code" < 4',
    'ColumnLength "code" between 1 and 4',
    'IsComplete "name"',
    'IsUnique "key"',
    'IsUnique "key" where "age > 21"',
    'IsPrimaryKey "key"',
    '(ColumnValues "age" > 21) or (ColumnValues "age" = NULL)',
    "RowCount > 0",
    'Mean "age" > 0',
]
# id -> whether the row passes each of the first twelve rules above
EXPECTED = {
    1: [True, True, True, True, True, True, True, True, False, True, False, True],
    2: [False, False, False, True, False, False, False, True, False, True, False, False],
    3: [False, True, False, False, False, True, False, True, True, True, True, True],
    4: [True, True, True, False, False, True, True, False, True, True, False, True],
    5: [False, True, True, False, True, True, False, True, True, True, False, False],
}


@pytest.fixture(scope="module")
def people(spark):
    return spark.createDataFrame(
        [(1, "k1", 25, "a", "12"), (2, "k1", 21, "", "12345"), (3, "k2", None, "B", None), (4, None, 30, None, "123"),
         (5, None, 19, "bb", "1")],
        "id int, key string, age int, name string, code string",
    )


def test_one_condition_per_row_level_rule(spark, people):
    ruleset = parse_ruleset("Rules = [\n" + ",\n".join(RULES) + "\n]", "people.dqdl")
    conditions = row_level_conditions(ruleset, people)
    assert [rule.text for rule in conditions] == RULES[:12]
    flagged = people.select("id", *(condition.alias(f"rule_{i}") for i, condition in enumerate(conditions.values())))
    expected_rows = [
        Row(id=row_id, **{f"rule_{i}": passed for i, passed in enumerate(passes)})
        for row_id, passes in EXPECTED.items()
    ]
    assert_df_equality(flagged, spark.createDataFrame(expected_rows, flagged.schema), ignore_row_order=True)


def test_rows_outside_the_where_clause_pass(spark):
    """Glue's documented example for `IsComplete att2 where "att1 = 'a'"`."""
    data = spark.createDataFrame(
        [(1, "a", "f"), (2, "b", "d"), (3, "a", None), (4, "a", "f"), (5, "b", None), (6, "a", "f")],
        "id int, att1 string, att2 string",
    )
    ruleset = parse_ruleset("Rules = [ IsComplete \"att2\" where \"att1 = 'a'\" ]", "where.dqdl")
    (condition,) = row_level_conditions(ruleset, data).values()
    assert_df_equality(
        data.select("id", condition.alias("passes")),
        spark.createDataFrame(
            [(1, True), (2, True), (3, False), (4, True), (5, True), (6, True)], "id int, passes boolean"
        ),
        ignore_row_order=True,
        ignore_nullable=True,
    )
    (result,) = evaluate(ruleset, data)
    assert (result.outcome.value, result.evaluated_metrics) == ("Failed", {"Column.att2.Completeness": 0.75})


def test_composite_rules_combine_row_by_row(spark):
    """Glue's documented composite example: with row evaluation both rows pass."""
    data = spark.createDataFrame([(2, 1), (0, 3)], "myCol1 int, myCol2 int")
    ruleset = parse_ruleset('Rules = [ (ColumnValues "myCol1" > 1) OR (ColumnValues "myCol2" > 2) ]', "glue.dqdl")
    (condition,) = row_level_conditions(ruleset, data).values()
    assert [row.passes for row in data.select(condition.alias("passes")).collect()] == [True, True]


def test_quarantine_rules_split_the_rows(spark, people):
    ruleset = parse_ruleset(
        """Rules = [
            # action: quarantine
            ColumnValues "age" between 20 and 40,
            # action: warn
            IsComplete "name"
        ]""",
        "people.dqdl",
    )
    conditions = row_level_conditions(ruleset, people)
    quarantine = [condition for rule, condition in conditions.items() if rule.action is Action.QUARANTINE]
    flagged = people.withColumn("passes", quarantine[0])
    assert sorted(row.id for row in flagged.where("passes").collect()) == [1, 2, 4]
    assert sorted(row.id for row in flagged.where("NOT passes").collect()) == [3, 5]


def test_missing_columns_and_invalid_where_clauses_are_reported(people):
    missing = parse_ruleset('Rules = [ IsComplete "email" ]', "people.dqdl")
    with pytest.raises(LakeError, match=r'rule IsComplete "email": input data does not include column email'):
        row_level_conditions(missing, people)
    invalid = parse_ruleset('Rules = [ IsComplete "name" where "age >" ]', "people.dqdl")
    with pytest.raises(LakeError, match=r"invalid where clause: \[PARSE_SYNTAX_ERROR\]"):
        row_level_conditions(invalid, people)
