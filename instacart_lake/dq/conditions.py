"""DQDL conditions applied to a measured metric (in Python) and to column values (as Spark
Columns), with Glue's semantics:

- `between a and b` is exclusive; `not between a and b` is its complement (inclusive bounds).
- For ColumnValues, a NULL value fails every condition except `!=` and `not in`, which a NULL
  passes unless NULL is one of the listed values. EMPTY is "", WHITESPACES_ONLY is a non-empty
  string of blanks.
- `matches` is a full match (the pattern is wrapped in ^...$, as Glue does) and an empty
  extraction counts as no match.
- ColumnLength treats NULL as a string of length 0.
Row predicates never return NULL: a row either passes (True) or fails (False)."""

from __future__ import annotations

import operator
from functools import reduce

from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from instacart_lake.dq.model import Condition, Keyword, Now, Number, Operand, Text

_COMPARISONS = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def column(name: str) -> Column:
    """A column by its exact name (dots and spaces are part of the name, not struct access)."""
    return F.col("`" + name.replace("`", "``") + "`")


def where_problem(df: DataFrame, where: str) -> str | None:
    """Why a where clause cannot filter `df` (invalid Spark SQL, not Boolean), or None."""
    try:
        data_type = df.select(F.expr(where)).schema.fields[0].dataType
    except AnalysisException as error:
        return str(error).strip().splitlines()[0]
    return None if isinstance(data_type, T.BooleanType) else f"{where} is not a Boolean expression"


def holds(condition: Condition, value: float) -> bool:
    """Whether a metric value satisfies a numeric condition."""
    numbers = condition.numbers
    if condition.operator == "between":
        inside = numbers[0] < value < numbers[1]
        return not inside if condition.negated else inside
    if condition.operator == "in":
        member = value in numbers
        return not member if condition.negated else member
    return _COMPARISONS[condition.operator](value, numbers[0])


def value_predicate(condition: Condition, value: Column) -> Column:
    """Whether a row's value passes a ColumnValues condition."""
    if condition.operator == "=":
        return _set_predicate(condition.operands, value, negated=False)
    if condition.operator == "!=":
        return _set_predicate(condition.operands, value, negated=True)
    if condition.operator == "in":
        return _set_predicate(condition.operands, value, negated=condition.negated)
    if condition.operator == "matches":
        extracted = F.regexp_extract(value, f"^{condition.operands[0].value}$", 0)
        matched = extracted == F.lit("") if condition.negated else extracted != F.lit("")
        return F.coalesce(matched, F.lit(False))
    return _range_predicate(condition, value)


def length_predicate(condition: Condition, value: Column) -> Column:
    """Whether a row's value passes a ColumnLength condition (NULL has length 0)."""
    return _range_predicate(condition, F.coalesce(F.length(value), F.lit(0)))


def _range_predicate(condition: Condition, value: Column) -> Column:
    bounds = [_literal(operand) for operand in condition.operands]
    if condition.operator == "between":
        inside = (value > bounds[0]) & (value < bounds[1])
        passed = ((value <= bounds[0]) | (value >= bounds[1])) if condition.negated else inside
    elif condition.operator == "in":
        passed = ~value.isin(bounds) if condition.negated else value.isin(bounds)
    else:
        passed = _COMPARISONS[condition.operator](value, bounds[0])
    return F.coalesce(passed, F.lit(False))


def _set_predicate(operands: tuple[Operand, ...], value: Column, negated: bool) -> Column:
    keywords = {operand.name for operand in operands if isinstance(operand, Keyword)}
    literals = [_literal(operand) for operand in operands if not isinstance(operand, Keyword)]
    matches_listed = [
        term
        for listed, term in (
            ("EMPTY", value == F.lit("")),
            ("WHITESPACES_ONLY", (F.trim(value) == F.lit("")) & (F.length(value) > 0)),
        )
        if listed in keywords
    ]
    if literals:
        matches_listed.append(value.isin(literals))
    non_null_match = reduce(Column.__or__, [F.coalesce(term, F.lit(False)) for term in matches_listed], F.lit(False))
    null_listed = F.lit("NULL" in keywords)
    if negated:
        return F.when(value.isNull(), ~null_listed).otherwise(~non_null_match)
    return F.when(value.isNull(), null_listed).otherwise(non_null_match)


def _literal(operand: Operand) -> Column:
    if isinstance(operand, Number):
        return F.lit(int(operand.value) if operand.value.is_integer() else operand.value)
    if isinstance(operand, Text):
        return F.lit(operand.value)
    if isinstance(operand, Now):
        seconds = int(operand.offset.total_seconds())
        return F.current_timestamp() + F.expr(f"INTERVAL {seconds} SECONDS")
    raise ValueError(f"{operand} is not a value")
