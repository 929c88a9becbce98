"""Evaluate a DQDL ruleset on a Spark DataFrame the way Glue Data Quality (Deequ) does, in as
few passes over the data as possible.

Every rule first states what it needs to measure; the needs are then computed together:
- all counts, null counts, min/max, lengths, sums, means, standard deviations, exact distinct
  counts and condition counts (each `where` clause becomes a conditional aggregate) of all
  rules go into ONE `df.agg(...)`;
- uniqueness-type rules (IsUnique, Uniqueness, IsPrimaryKey) share one grouping pass per set
  of columns, whatever their `where` clauses;
- ReferentialIntegrity needs one left join per (columns, reference) pair: a broadcast lookup
  inside that same aggregate pass when the reference has few enough keys, a pass of its own
  otherwise;
- CustomSql runs its statement with the data registered as the temporary view `primary` (and
  each reference DataFrame under its name).
A rule that cannot run (unknown column, wrong column type) fails without a Spark job; an
invalid `where` clause, a failing SQL statement or a missing reference dataset makes it Error.
The DataFrame is scanned once per pass: cache it first if it is expensive to recompute."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce

from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from instacart_lake.dq import messages
from instacart_lake.dq.conditions import column, holds, length_predicate, value_predicate, where_problem
from instacart_lake.dq.model import Condition, Number, Rule, RuleExpression, Ruleset
from instacart_lake.dq.results import Outcome, RuleResult, RulesetResult
from instacart_lake.dq.rule_types import primary_columns, split_reference

log = logging.getLogger(__name__)

_EQUALS_ONE = Condition("=", (Number(1.0),))
_NUMERIC_TYPES = "one of (ByteType,ShortType,IntegerType,LongType,FloatType,DoubleType,DecimalType)"


def evaluate(ruleset: Ruleset, df: DataFrame, references: dict[str, DataFrame] | None = None) -> RulesetResult:
    """Evaluate every rule of `ruleset` on `df`; `references` are the named DataFrames that
    ReferentialIntegrity rules (and CustomSql statements) refer to."""
    frame = _Frame(df, dict(references or {}))
    needs = _Needs()
    leaves = list(dict.fromkeys(leaf for rule in ruleset.rules for leaf in rule.leaves()))
    finishers = {leaf: _prepare(leaf, frame, needs) for leaf in leaves}
    measurements = needs.measure(frame)
    with _sql_views(frame, any(leaf.rule_type == "CustomSql" for leaf in leaves)):
        outcomes = {leaf: finish(measurements) for leaf, finish in finishers.items()}
    results = []
    for index, ruleset_rule in enumerate(ruleset.rules, start=1):
        outcome = _compose(ruleset_rule.expression, outcomes)
        results.append(
            RuleResult(
                name=f"Rule_{index}",
                rule=ruleset_rule.text,
                outcome=outcome.outcome,
                evaluated_metrics=outcome.metrics,
                failure_reason=outcome.message,
                action=ruleset_rule.action,
            )
        )
    result = RulesetResult(ruleset.name, tuple(results))
    log.info("data quality %s: %d of %d rules passed", ruleset.name, sum(r.passed for r in result), len(result))
    return result


@dataclass(frozen=True)
class _LeafOutcome:
    outcome: Outcome
    metrics: dict[str, float] = field(default_factory=dict)
    message: str | None = None


@dataclass(frozen=True)
class _Measurements:
    aggregates: dict[tuple, object]
    uniqueness: dict[tuple, float | None]
    referential: dict[tuple, int]


_Finish = Callable[[_Measurements], _LeafOutcome]


@dataclass
class _Frame:
    df: DataFrame
    references: dict[str, DataFrame]

    def __post_init__(self) -> None:
        self.types = {f.name: f.dataType for f in self.df.schema.fields}


def _scoped(value: Column, where: Column | None) -> Column:
    """The value on rows inside the where clause, NULL elsewhere (so aggregates skip them)."""
    return value if where is None else F.when(where, value)


class _Needs:
    """What the rules of a ruleset need measured, deduplicated by key."""

    def __init__(self) -> None:
        self._aggregates: dict[tuple, Column] = {}
        self._uniqueness: dict[tuple[str, ...], set[str | None]] = {}
        self._referential: set[tuple] = set()

    def aggregate(self, key: tuple, build: Callable[[], Column]) -> tuple:
        if key not in self._aggregates:
            self._aggregates[key] = build()
        return key

    def rows(self, where: str | None) -> tuple:
        return self.aggregate(("rows", where), lambda: F.count(_scoped(F.lit(1), _where(where))))

    def non_null(self, name: str, where: str | None) -> tuple:
        return self.aggregate(("non_null", name, where), lambda: F.count(_scoped(column(name), _where(where))))

    def passing(self, key: tuple, predicate: Column, where: str | None) -> tuple:
        return self.aggregate(
            ("passing", *key, where), lambda: F.count(_scoped(F.when(predicate, F.lit(1)), _where(where)))
        )

    def uniqueness(self, columns: tuple[str, ...], where: str | None) -> tuple:
        self._uniqueness.setdefault(columns, set()).add(where)
        return (columns, where)

    def referential(self, key: tuple) -> tuple:
        self._referential.add(key)
        return key

    def measure(self, frame: _Frame) -> _Measurements:
        """One aggregate pass, which also looks up the keys of every ReferentialIntegrity whose
        reference keys are few enough to broadcast; one grouping pass per uniqueness column set;
        one join pass per other ReferentialIntegrity."""
        lookups = {key: _reference_keys(frame, key, f"__ref_{i}") for i, key in enumerate(sorted(self._referential))}
        looked_up = {key: lookup for key, lookup in lookups.items() if lookup.broadcast}
        data = frame.df
        for key, lookup in looked_up.items():
            data = lookup.joined_to(data, key[0])
        measures = {**self._aggregates, **{key: F.count(lookup.hit) for key, lookup in looked_up.items()}}
        aggregates: dict[tuple, object] = {}
        if measures:
            row = data.agg(*(measure.alias(f"m{i}") for i, measure in enumerate(measures.values()))).collect()[0]
            aggregates = dict(zip(measures, row))
        uniqueness: dict[tuple, float | None] = {}
        for key_columns, wheres in self._uniqueness.items():
            ordered = sorted(wheres, key=lambda w: (w is not None, w))
            uniqueness.update(_measure_uniqueness(frame.df, key_columns, ordered))
        referential = {key: (aggregates.pop(key) if key in looked_up else lookup.count_matches(frame.df, key[0]))
                       for key, lookup in lookups.items()}
        return _Measurements(aggregates, uniqueness, referential)


def _where(where: str | None) -> Column | None:
    return None if where is None else F.expr(where)


def _measure_uniqueness(df: DataFrame, columns: tuple[str, ...], wheres: list[str | None]) -> dict[tuple, float | None]:
    """Deequ's Uniqueness: among rows where at least one key column is not NULL (and inside the
    where clause), the share of rows whose key occurs exactly once. One grouping pass serves
    every where clause of this column set."""
    keys = [column(name) for name in columns]
    any_key_present = reduce(Column.__or__, [key.isNotNull() for key in keys])
    counts = [F.count(_scoped(F.lit(1), _where(where))).alias(f"n{i}") for i, where in enumerate(wheres)]
    groups = df.where(any_key_present).groupBy(*keys).agg(*counts)
    totals = []
    for i in range(len(wheres)):
        totals += [F.sum(F.when(F.col(f"n{i}") == 1, 1).otherwise(0)).alias(f"u{i}"), F.sum(f"n{i}").alias(f"t{i}")]
    row = groups.agg(*totals).collect()[0]
    return {
        (columns, where): (row[f"u{i}"] / row[f"t{i}"] if row[f"t{i}"] else None) for i, where in enumerate(wheres)
    }


BROADCAST_REFERENCE_KEYS = 5_000_000
"""The most distinct reference keys sent to every task (tens of MB) instead of shuffling the
primary rows to meet them: a lookup table of products or orders, not a fact table."""


@dataclass
class _ReferenceKeys:
    """The distinct keys of one ReferentialIntegrity's reference, computed once, and what a
    lookup of the primary rows' keys among them adds: `hit`, true where a key was found."""

    keys: DataFrame
    hit: str
    broadcast: bool

    def joined_to(self, primary: DataFrame, columns: tuple[str, ...]) -> DataFrame:
        """The primary rows, each with `hit` (at most one match: the keys are distinct)."""
        keys = F.broadcast(self.keys) if self.broadcast else self.keys
        matches = reduce(Column.__and__, [column(name) == keys[f"{self.hit}_{i}"] for i, name in enumerate(columns)])
        return primary.join(keys, matches, how="left")

    def count_matches(self, primary: DataFrame, columns: tuple[str, ...]) -> int:
        """How many primary rows have their key among the reference keys (a pass of its own)."""
        keys = primary.select(*(column(name).alias(name) for name in columns))
        return self.joined_to(keys, columns).agg(F.count(self.hit)).collect()[0][0]


def _reference_keys(frame: _Frame, key: tuple, hit: str) -> _ReferenceKeys:
    """The distinct reference keys of a ReferentialIntegrity, and whether they are few enough
    (BROADCAST_REFERENCE_KEYS) to be sent to every task, so that the primary rows are looked up
    where they are, never shuffled, and in the aggregate pass."""
    _, alias, reference = key
    keys = (
        frame.references[alias]
        .select(*(column(name).alias(f"{hit}_{i}") for i, name in enumerate(reference)))
        .distinct()
        .withColumn(hit, F.lit(True))
        .localCheckpoint(eager=True)
    )
    return _ReferenceKeys(keys, hit, keys.count() <= BROADCAST_REFERENCE_KEYS)


@contextmanager
def _sql_views(frame: _Frame, needed: bool):
    """Register `primary` and the reference DataFrames for CustomSql, and drop them after.

    The views are dropped from the session catalog directly: `Catalog.dropTempView` also
    uncaches every cached DataFrame with the view's plan, which would throw away the caches
    a job built for its gate's passes and its writes (the DataFrames behind the views are
    the job's own)."""
    views = {"primary": frame.df, **frame.references} if needed else {}
    for name, view in views.items():
        view.createOrReplaceTempView(name)
    try:
        yield
    finally:
        session_catalog = frame.df.sparkSession._jsparkSession.sessionState().catalog()
        for name in views:
            session_catalog.dropTempView(name)


def _compose(expression: RuleExpression, outcomes: dict[Rule, _LeafOutcome]) -> _LeafOutcome:
    """Glue's default (column) evaluation of composite rules: evaluate each rule on the whole
    data, then combine outcomes; failure reasons and metrics of the parts are kept."""
    if isinstance(expression, Rule):
        return outcomes[expression]
    parts = [_compose(part, outcomes) for part in expression.rules]
    states = {part.outcome for part in parts}
    # "and" takes its worst part (a failure outweighs an error), "or" its best part.
    if expression.operator == "and":
        precedence = [Outcome.FAILED, Outcome.ERROR, Outcome.PASSED]
    else:
        precedence = [Outcome.PASSED, Outcome.ERROR, Outcome.FAILED]
    outcome = next(state for state in precedence if state in states)
    metrics = {name: value for part in parts for name, value in part.metrics.items()}
    reasons = [part.message for part in parts if part.message]
    return _LeafOutcome(outcome, metrics, "\n".join(reasons) or None)


def _constant(outcome: _LeafOutcome) -> _Finish:
    return lambda measurements: outcome


def _failed(message: str, metrics: dict[str, float] | None = None) -> _LeafOutcome:
    return _LeafOutcome(Outcome.FAILED, metrics or {}, message)


def _judge(condition: Condition, metric: str, value: float | None, analyzer: str) -> _LeafOutcome:
    if value is None:
        return _failed(messages.empty_state(analyzer))
    value = float(value)
    if holds(condition, value):
        return _LeafOutcome(Outcome.PASSED, {metric: value})
    return _failed(messages.constraint_failure(value), {metric: value})


def _ratio(part, whole) -> float | None:
    return part / whole if whole else None


def _checked_columns(rule: Rule) -> tuple[str, ...]:
    if rule.rule_type in ("IsUnique", "Uniqueness", "IsPrimaryKey"):
        return rule.parameters
    if rule.rule_type in ("RowCount", "ColumnCount", "ColumnExists", "CustomSql", "ReferentialIntegrity"):
        return ()
    return (rule.column,)


def _prepare(rule: Rule, frame: _Frame, needs: _Needs) -> _Finish:
    missing = [name for name in _checked_columns(rule) if name not in frame.types]
    if missing:
        return _constant(_failed(messages.missing_column(missing[0])))
    if rule.where is not None:
        problem = where_problem(frame.df, rule.where)
        if problem is not None:
            message = f"Rule {rule.text} has provided an invalid where clause : {problem}"
            return _constant(_LeafOutcome(Outcome.ERROR, message=message))
    return _PREPARERS[rule.rule_type](rule, frame, needs)


def _row_count(rule: Rule, frame: _Frame, needs: _Needs) -> _Finish:
    rows = needs.rows(rule.where)
    return lambda m: _judge(rule.condition, "Dataset.*.RowCount", m.aggregates[rows], "Size")


def _column_count(rule: Rule, frame: _Frame, needs: _Needs) -> _Finish:
    return _constant(_judge(rule.condition, "Dataset.*.ColumnCount", len(frame.types), "ColumnCount"))


def _column_exists(rule: Rule, frame: _Frame, needs: _Needs) -> _Finish:
    if rule.column in frame.types:
        return _constant(_LeafOutcome(Outcome.PASSED))
    return _constant(_failed(messages.missing_column(rule.column)))


def _completeness(rule: Rule, frame: _Frame, needs: _Needs) -> _Finish:
    rows, present = needs.rows(rule.where), needs.non_null(rule.column, rule.where)
    condition = rule.condition or _EQUALS_ONE
    return lambda m: _judge(
        condition,
        f"Column.{rule.column}.Completeness",
        _ratio(m.aggregates[present], m.aggregates[rows]),
        f"Completeness({rule.column})",
    )


def _uniqueness_metric(columns: tuple[str, ...]) -> str:
    return f"Column.{columns[0]}.Uniqueness" if len(columns) == 1 else f"Multicolumn.{','.join(columns)}.Uniqueness"


def _uniqueness(rule: Rule, frame: _Frame, needs: _Needs) -> _Finish:
    key = needs.uniqueness(rule.parameters, rule.where)
    condition = rule.condition or _EQUALS_ONE
    name = _uniqueness_metric(rule.parameters)
    return lambda m: _judge(condition, name, m.uniqueness[key], f"Uniqueness({','.join(rule.parameters)})")


def _primary_key(rule: Rule, frame: _Frame, needs: _Needs) -> _Finish:
    unique = needs.uniqueness(rule.parameters, rule.where)
    rows = needs.rows(rule.where)
    present = {name: needs.non_null(name, rule.where) for name in rule.parameters}

    def finish(m: _Measurements) -> _LeafOutcome:
        parts = [_judge(_EQUALS_ONE, _uniqueness_metric(rule.parameters), m.uniqueness[unique], "Uniqueness")]
        parts += [
            _judge(
                _EQUALS_ONE,
                f"Column.{name}.Completeness",
                _ratio(m.aggregates[key], m.aggregates[rows]),
                f"Completeness({name})",
            )
            for name, key in present.items()
        ]
        return _all_of(parts)

    return finish


def _all_of(parts: list[_LeafOutcome]) -> _LeafOutcome:
    """One rule made of several constraints (Deequ checks): passes when all do."""
    metrics = {name: value for part in parts for name, value in part.metrics.items()}
    reasons = [part.message for part in parts if part.message]
    passed = all(part.outcome is Outcome.PASSED for part in parts)
    return _LeafOutcome(Outcome.PASSED if passed else Outcome.FAILED, metrics, "\n".join(reasons) or None)


def _distinct_values(rule: Rule, frame: _Frame, needs: _Needs) -> _Finish:
    """Deequ's Histogram bin count: exact distinct values, NULL counting as one value."""
    where = _where(rule.where)
    values = column(rule.column)
    distinct = needs.aggregate(
        ("distinct", rule.column, rule.where), lambda: F.countDistinct(_scoped(values.cast("string"), where))
    )
    has_null = needs.aggregate(
        ("has_null", rule.column, rule.where), lambda: F.max(_scoped(values.isNull().cast("int"), where))
    )
    return lambda m: _judge(
        rule.condition,
        f"Column.{rule.column}.DistinctValuesCount",
        m.aggregates[distinct] + (m.aggregates[has_null] or 0),
        f"Histogram({rule.column})",
    )


_STATISTICS = {"Mean": F.avg, "Sum": F.sum, "StandardDeviation": F.stddev_pop}


def _statistic(rule: Rule, frame: _Frame, needs: _Needs) -> _Finish:
    data_type = frame.types[rule.column]
    if not isinstance(data_type, T.NumericType):
        return _constant(_failed(messages.wrong_type(rule.column, _NUMERIC_TYPES, type(data_type).__name__)))
    function = _STATISTICS[rule.rule_type]
    key = needs.aggregate(
        (rule.rule_type, rule.column, rule.where),
        lambda: function(_scoped(column(rule.column).cast("double"), _where(rule.where))),
    )
    metric = f"Column.{rule.column}.{rule.rule_type}"
    return lambda m: _judge(rule.condition, metric, m.aggregates[key], f"{rule.rule_type}({rule.column})")


def _column_length(rule: Rule, frame: _Frame, needs: _Needs) -> _Finish:
    data_type = frame.types[rule.column]
    if not isinstance(data_type, T.StringType):
        return _constant(_failed(messages.wrong_type(rule.column, "StringType", type(data_type).__name__)))
    where, condition = _where(rule.where), rule.condition
    length = F.coalesce(F.length(column(rule.column)), F.lit(0))
    shortest = needs.aggregate(("min_length", rule.column, rule.where), lambda: F.min(_scoped(length, where)))
    longest = needs.aggregate(("max_length", rule.column, rule.where), lambda: F.max(_scoped(length, where)))
    rows = needs.rows(rule.where)
    passes = length_predicate(condition, column(rule.column))
    passing = needs.passing(("length", rule.column, condition), passes, rule.where)
    min_name, max_name = f"Column.{rule.column}.MinimumLength", f"Column.{rule.column}.MaximumLength"
    compliance_name = f"Column.{rule.column}.LengthCompliance"

    def finish(m: _Measurements) -> _LeafOutcome:
        compliance = _ratio(m.aggregates[passing], m.aggregates[rows])
        if rule.threshold is not None:
            judged = _judge(rule.threshold, compliance_name, compliance, f"Compliance({rule.column})")
            extremes = {min_name: m.aggregates[shortest], max_name: m.aggregates[longest]}
            return _LeafOutcome(
                judged.outcome,
                {**{k: float(v) for k, v in extremes.items() if v is not None}, **judged.metrics},
                judged.message,
            )
        operator, bounds = condition.operator, condition.numbers
        if operator in ("in",) or (operator == "between" and condition.negated):
            return _judge(_EQUALS_ONE, compliance_name, compliance, f"Compliance({rule.column})")
        checks: list[tuple[Condition, str, tuple]] = []
        if operator in (">", ">=", "=", "!="):
            checks.append((condition, min_name, shortest))
        if operator in ("<", "<=", "=", "!="):
            checks.append((condition, max_name, longest))
        if operator == "between":
            checks = [
                (Condition(">", (Number(bounds[0]),)), min_name, shortest),
                (Condition("<", (Number(bounds[1]),)), max_name, longest),
            ]
        return _all_of([_judge(check, name, m.aggregates[key], name.split(".")[-1]) for check, name, key in checks])

    return finish


def _column_values(rule: Rule, frame: _Frame, needs: _Needs) -> _Finish:
    condition, values = rule.condition, column(rule.column)
    numeric_data = isinstance(frame.types[rule.column], T.NumericType) and condition.is_numeric
    if rule.threshold is None and numeric_data and condition.operator in (">", ">=", "<", "<=", "="):
        return _column_values_extremes(rule, needs)
    rows = needs.rows(rule.where)
    if rule.threshold is None and numeric_data and condition.operator == "between" and not condition.negated:
        return _column_values_range(rule, needs, rows)
    passing = needs.passing(("values", rule.column, condition), value_predicate(condition, values), rule.where)
    plain_match = condition.operator == "matches" and rule.threshold is None
    metric = f"Column.{rule.column}.{'PatternMatch' if plain_match else 'ColumnValues.Compliance'}"
    expected = rule.threshold or _EQUALS_ONE
    return lambda m: _judge(expected, metric, _ratio(m.aggregates[passing], m.aggregates[rows]), "Compliance")


def _column_values_extremes(rule: Rule, needs: _Needs) -> _Finish:
    """Deequ's translation of `ColumnValues "x" > 3` on numbers: the minimum (or maximum, or
    both for =) must satisfy the condition and the column must be complete."""
    where, values = _where(rule.where), column(rule.column).cast("double")
    checks = []
    if rule.condition.operator in (">", ">=", "="):
        key = needs.aggregate(("min", rule.column, rule.where), lambda: F.min(_scoped(values, where)))
        checks.append((f"Column.{rule.column}.Minimum", key))
    if rule.condition.operator in ("<", "<=", "="):
        key = needs.aggregate(("max", rule.column, rule.where), lambda: F.max(_scoped(values, where)))
        checks.append((f"Column.{rule.column}.Maximum", key))
    rows, present = needs.rows(rule.where), needs.non_null(rule.column, rule.where)

    def finish(m: _Measurements) -> _LeafOutcome:
        parts = [_judge(rule.condition, name, m.aggregates[key], name.split(".")[-1]) for name, key in checks]
        if m.aggregates[present] != m.aggregates[rows]:
            parts.append(_failed(messages.null_value_failure()))
        return _all_of(parts)

    return finish


def _column_values_range(rule: Rule, needs: _Needs, rows: tuple) -> _Finish:
    """Deequ's translation of `ColumnValues "x" between a and b` on numbers: every non-NULL
    value strictly inside the range, and the column complete."""
    low, high = rule.condition.numbers
    values = column(rule.column)
    inside = values.isNull() | ((values > F.lit(low)) & (values < F.lit(high)))
    passing = needs.passing(("range", rule.column, rule.condition), F.coalesce(inside, F.lit(False)), rule.where)
    present = needs.non_null(rule.column, rule.where)
    metric = f"Column.{rule.column}.ColumnValues.Compliance"

    def finish(m: _Measurements) -> _LeafOutcome:
        parts = [_judge(_EQUALS_ONE, metric, _ratio(m.aggregates[passing], m.aggregates[rows]), "Compliance")]
        if m.aggregates[present] != m.aggregates[rows]:
            parts.append(_failed(messages.null_value_failure()))
        return _all_of(parts)

    return finish


def _referential_integrity(rule: Rule, frame: _Frame, needs: _Needs) -> _Finish:
    primary = primary_columns(rule.parameters[0])
    alias, reference = split_reference(rule.parameters[1])
    if alias not in frame.references:
        return _constant(_LeafOutcome(Outcome.ERROR, message=f"{alias} not found in additional sources"))
    for side, names, available in (
        ("primary", primary, frame.types),
        ("reference", reference, set(frame.references[alias].columns)),
    ):
        absent = [name for name in names if name not in available]
        if absent:
            subject = f"Column {absent[0]} does" if len(absent) == 1 else f"Columns {', '.join(absent)} do"
            return _constant(_failed(f"{subject} not exist in {side} data frame."))
    rows = needs.rows(None)
    matched = needs.referential((primary, alias, reference))

    def finish(m: _Measurements) -> _LeafOutcome:
        if not m.aggregates[rows]:
            return _failed("Primary data frame contains no data.")
        ratio = m.referential[matched] / m.aggregates[rows]
        return _judge(rule.condition, f"Column.{alias}.ReferentialIntegrity", ratio, "ReferentialIntegrity")

    return finish


def _custom_sql(rule: Rule, frame: _Frame, needs: _Needs) -> _Finish:
    """`CustomSql "select ..." <condition>` checks the single value the statement returns;
    without a condition (optionally `with threshold`), the statement selects the rows of
    `primary` that pass, and the share of rows it returns is checked (1.0 by default)."""
    statement = rule.parameters[0]
    rows = needs.rows(None)

    def finish(m: _Measurements) -> _LeafOutcome:
        try:
            result = frame.df.sparkSession.sql(statement)
            if rule.condition is not None:
                return _custom_sql_value(rule.condition, result.collect())
            if not m.aggregates[rows]:
                return _failed("Custom SQL rule could not be evaluated due to data frame being empty")
            return _custom_sql_rows(rule, frame, result, m.aggregates[rows])
        except AnalysisException as error:
            first_line = str(error).strip().splitlines()[0]
            return _LeafOutcome(Outcome.ERROR, message=f"Error executing SQL statement: {first_line}")

    return finish


def _custom_sql_value(condition: Condition, rows: list) -> _LeafOutcome:
    if len(rows) != 1 or len(rows[0]) != 1:
        return _LeafOutcome(Outcome.ERROR, message="Custom SQL did not return exactly one row with one column")
    value = rows[0][0]
    if value is None:
        return _failed(messages.null_value_failure())
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return _LeafOutcome(Outcome.ERROR, message=f"Custom SQL returned a non-numeric value: {value!r}")
    return _judge(condition, "Dataset.*.CustomSQL", float(value), "CustomSql")


def _custom_sql_rows(rule: Rule, frame: _Frame, result: DataFrame, total: int) -> _LeafOutcome:
    returned = result.columns
    if not set(returned) & set(frame.types):
        return _failed(
            "The output from CustomSQL must contain at least one column that matches the input dataset. "
            "Ensure that matching columns are returned from the SQL."
        )
    unknown = [name for name in returned if name not in frame.types]
    if unknown:
        return _failed(
            "The columns returned from the SQL statement should only belong to the primary table. "
            f"Columns not found: {', '.join(unknown)}"
        )
    hits = (
        result.select(*(column(name).alias(f"__sql_{i}") for i, name in enumerate(returned)))
        .distinct()
        .withColumn("__sql_hit", F.lit(True))
    )
    keys = frame.df.select(*(column(name).alias(f"__key_{i}") for i, name in enumerate(returned)))
    same_row = reduce(
        Column.__and__, [keys[f"__key_{i}"].eqNullSafe(hits[f"__sql_{i}"]) for i in range(len(returned))]
    )
    matched = keys.join(hits, same_row, how="left").agg(F.count("__sql_hit")).collect()[0][0]
    return _judge(rule.threshold or _EQUALS_ONE, "Dataset.*.CustomSQL.Compliance", matched / total, "CustomSql")


_PREPARERS: dict[str, Callable[[Rule, _Frame, _Needs], _Finish]] = {
    "RowCount": _row_count,
    "ColumnCount": _column_count,
    "ColumnExists": _column_exists,
    "IsComplete": _completeness,
    "Completeness": _completeness,
    "IsUnique": _uniqueness,
    "Uniqueness": _uniqueness,
    "IsPrimaryKey": _primary_key,
    "ColumnValues": _column_values,
    "ColumnLength": _column_length,
    "DistinctValuesCount": _distinct_values,
    "Mean": _statistic,
    "StandardDeviation": _statistic,
    "Sum": _statistic,
    "ReferentialIntegrity": _referential_integrity,
    "CustomSql": _custom_sql,
}
