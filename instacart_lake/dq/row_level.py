"""Row-level outcomes: for each rule that judges rows one by one, a Boolean Column that is
True when the row passes, like the per-row results of Glue's `EvaluateDataQuality`
(`DataQualityRulesPass` / `DataQualityRulesFail`). Jobs use them to quarantine failing rows.

Rows outside a rule's `where` clause pass (Glue's default label for filtered rows). Composite
rules combine their parts row by row (Glue's `compositeRuleEvaluation.method = ROW`).
Uniqueness rules use a window over the key columns, so their Columns belong in `select` or
`withColumn`, not directly in `where`:

    flagged = df.withColumn("passes", condition)
    clean, quarantined = flagged.where("passes"), flagged.where("NOT passes")
"""

from __future__ import annotations

from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from instacart_lake.dq.conditions import column, length_predicate, value_predicate, where_problem
from instacart_lake.dq.model import CompositeRule, Rule, RuleExpression, Ruleset, RulesetRule
from instacart_lake.dq.rule_types import RULE_TYPES
from instacart_lake.errors import LakeError


def row_level_conditions(ruleset: Ruleset, df: DataFrame) -> dict[RulesetRule, Column]:
    """A pass/fail Column for every rule of the ruleset whose parts all have row-level results
    (IsComplete, Completeness, ColumnValues, ColumnLength, IsUnique, Uniqueness, IsPrimaryKey);
    rules judged on the whole data only (RowCount, Mean, ...) are left out."""
    available = set(df.columns)
    conditions = {}
    for rule in ruleset.rules:
        leaves = rule.leaves()
        if not all(RULE_TYPES[leaf.rule_type].row_level for leaf in leaves):
            continue
        for leaf in leaves:
            missing = [name for name in leaf.parameters if name not in available]
            if missing:
                raise LakeError(f"{ruleset.name}: rule {rule.text}: input data does not include column {missing[0]}")
            problem = None if leaf.where is None else where_problem(df, leaf.where)
            if problem is not None:
                raise LakeError(f"{ruleset.name}: rule {rule.text}: invalid where clause: {problem}")
        conditions[rule] = _expression_passes(rule.expression)
    return conditions


def _expression_passes(expression: RuleExpression) -> Column:
    if isinstance(expression, CompositeRule):
        combine = Column.__and__ if expression.operator == "and" else Column.__or__
        return reduce(combine, [_expression_passes(part) for part in expression.rules])
    passes = _ROW_PREDICATES[expression.rule_type](expression)
    if expression.where is None:
        return passes
    return F.when(F.coalesce(F.expr(expression.where), F.lit(False)), passes).otherwise(F.lit(True))


def _is_complete(rule: Rule) -> Column:
    return column(rule.column).isNotNull()


def _column_values(rule: Rule) -> Column:
    return value_predicate(rule.condition, column(rule.column))


def _column_length(rule: Rule) -> Column:
    return length_predicate(rule.condition, column(rule.column))


def _occurs_once(rule: Rule) -> Column:
    """The row's key occurs once (counting only rows inside the where clause); rows whose key
    columns are all NULL are ignored by Glue's uniqueness, so they pass."""
    keys = [column(name) for name in rule.parameters]
    scope = F.lit(1) if rule.where is None else F.when(F.expr(rule.where), F.lit(1))
    occurrences = F.count(scope).over(Window.partitionBy(*keys))
    all_null = reduce(Column.__and__, [key.isNull() for key in keys])
    return all_null | (occurrences == 1)


def _primary_key(rule: Rule) -> Column:
    keys_present = reduce(Column.__and__, [column(name).isNotNull() for name in rule.parameters])
    return keys_present & _occurs_once(rule)


_ROW_PREDICATES = {
    "IsComplete": _is_complete,
    "Completeness": _is_complete,
    "ColumnValues": _column_values,
    "ColumnLength": _column_length,
    "IsUnique": _occurs_once,
    "Uniqueness": _occurs_once,
    "IsPrimaryKey": _primary_key,
}
