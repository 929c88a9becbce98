"""The DQDL rule types this evaluator supports and the shape each one takes, as in the AWS Glue
DQDL rule type reference: how many column parameters, whether a condition is required
(metric rules), forbidden (Boolean rules) or optional (CustomSql), and whether `where` and
`with threshold` are accepted. A rule of another type is refused when the ruleset is parsed."""

from __future__ import annotations

from dataclasses import dataclass

REQUIRED = "required"
FORBIDDEN = "forbidden"
OPTIONAL = "optional"


@dataclass(frozen=True)
class RuleTypeSpec:
    min_parameters: int
    max_parameters: int | None
    condition: str
    numeric_condition: bool = True
    where: bool = True
    threshold: bool = False
    row_level: bool = False


RULE_TYPES: dict[str, RuleTypeSpec] = {
    "RowCount": RuleTypeSpec(0, 0, REQUIRED),
    "ColumnCount": RuleTypeSpec(0, 0, REQUIRED, where=False),
    "ColumnExists": RuleTypeSpec(1, 1, FORBIDDEN, where=False),
    "IsComplete": RuleTypeSpec(1, 1, FORBIDDEN, row_level=True),
    "Completeness": RuleTypeSpec(1, 1, REQUIRED, row_level=True),
    "IsUnique": RuleTypeSpec(1, None, FORBIDDEN, row_level=True),
    "Uniqueness": RuleTypeSpec(1, None, REQUIRED, row_level=True),
    "IsPrimaryKey": RuleTypeSpec(1, None, FORBIDDEN, row_level=True),
    "ColumnValues": RuleTypeSpec(1, 1, REQUIRED, numeric_condition=False, threshold=True, row_level=True),
    "ColumnLength": RuleTypeSpec(1, 1, REQUIRED, threshold=True, row_level=True),
    "DistinctValuesCount": RuleTypeSpec(1, 1, REQUIRED),
    "Mean": RuleTypeSpec(1, 1, REQUIRED),
    "StandardDeviation": RuleTypeSpec(1, 1, REQUIRED),
    "Sum": RuleTypeSpec(1, 1, REQUIRED),
    "ReferentialIntegrity": RuleTypeSpec(2, 2, REQUIRED, where=False),
    "CustomSql": RuleTypeSpec(1, 1, OPTIONAL, where=False, threshold=True),
}


def split_reference(parameter: str) -> tuple[str, tuple[str, ...]] | None:
    """`"ref.col"` -> ("ref", ("col",)); `"ref.{a,b}"` -> ("ref", ("a", "b")); None if malformed."""
    alias, dot, columns = parameter.partition(".")
    if not dot or not alias.strip() or not columns.strip():
        return None
    if columns.startswith("{") and columns.endswith("}"):
        names = tuple(name.strip() for name in columns[1:-1].split(","))
    else:
        names = (columns.strip(),)
    return (alias.strip(), names) if all(names) else None


def primary_columns(parameter: str) -> tuple[str, ...]:
    """The comma-separated primary columns of a ReferentialIntegrity rule."""
    return tuple(name.strip() for name in parameter.split(","))
