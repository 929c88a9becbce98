"""The parsed form of a DQDL ruleset: plain frozen dataclasses, no Spark.

A `Ruleset` holds `RulesetRule`s (one per top-level entry of `Rules = [...]`), each with the
rule expression and the action a failure triggers. An expression is either a `Rule` (one rule
type with its parameters, condition, `where` clause and `with threshold` condition) or a
`CompositeRule` (rules joined by `and` / `or`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum


class Action(str, Enum):
    """What a failing rule does to the job that evaluates it."""

    STOP = "stop"
    WARN = "warn"
    QUARANTINE = "quarantine"


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Keyword:
    """NULL, EMPTY or WHITESPACES_ONLY (always stored upper-case)."""

    name: str


@dataclass(frozen=True)
class Now:
    """`now()` or `(now() - 3 days)`: the evaluation time shifted by an offset."""

    offset: timedelta = timedelta(0)


@dataclass(frozen=True)
class Quantity:
    """A duration or size such as `24 hours` or `10 MB` (DataFreshness, FileSize rules)."""

    amount: float
    unit: str


@dataclass(frozen=True)
class Dynamic:
    """A dynamic-rule expression over earlier runs' metrics, e.g. `avg(last(10)) - 1`."""

    text: str


Operand = Number | Text | Keyword | Now | Quantity | Dynamic


@dataclass(frozen=True)
class Condition:
    """A DQDL expression: `operator` is one of = != > >= < <= between in matches; `negated`
    marks `not between`, `not in` and `not matches`."""

    operator: str
    operands: tuple[Operand, ...]
    negated: bool = False

    @property
    def is_numeric(self) -> bool:
        """True for comparisons, ranges and sets of plain numbers (what metric rules accept)."""
        return self.operator != "matches" and all(isinstance(o, Number) for o in self.operands)

    @property
    def numbers(self) -> tuple[float, ...]:
        return tuple(o.value for o in self.operands if isinstance(o, Number))


@dataclass(frozen=True)
class Rule:
    """One rule of a built-in rule type, e.g. `ColumnValues "x" in [1, 2] where "y > 0"`."""

    rule_type: str
    parameters: tuple[str, ...]
    condition: Condition | None
    where: str | None
    threshold: Condition | None
    text: str

    @property
    def column(self) -> str:
        return self.parameters[0]


@dataclass(frozen=True)
class CompositeRule:
    """Rules joined by one logical operator ("and" or "or")."""

    operator: str
    rules: tuple["Rule | CompositeRule", ...]
    text: str

    def leaves(self) -> tuple[Rule, ...]:
        found: list[Rule] = []
        for rule in self.rules:
            found.extend(rule.leaves() if isinstance(rule, CompositeRule) else (rule,))
        return tuple(found)


RuleExpression = Rule | CompositeRule


@dataclass(frozen=True)
class RulesetRule:
    """A top-level entry of a ruleset: the rule, what its failure does, where it is written."""

    expression: RuleExpression
    action: Action
    line: int

    @property
    def text(self) -> str:
        return self.expression.text

    def leaves(self) -> tuple[Rule, ...]:
        if isinstance(self.expression, CompositeRule):
            return self.expression.leaves()
        return (self.expression,)


@dataclass(frozen=True)
class Ruleset:
    """A parsed DQDL document; `name` is the source it came from (a file name or a label)."""

    name: str
    rules: tuple[RulesetRule, ...]
