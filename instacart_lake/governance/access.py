"""The one place that decides access: what a persona may read of a table (which columns,
which rows, by which rule of the policy) and whether it may write it, as Lake Formation
decides from the same policy. The local query engine and the serving export call it."""

from __future__ import annotations

from dataclasses import dataclass, field

from instacart_lake.catalog.names import TableName
from instacart_lake.errors import LakeError
from instacart_lake.governance.policy import Grant, Policy, PolicyError, shown

READ = "SELECT"
WRITES = frozenset({"INSERT", "DELETE"})


class AccessDenied(LakeError):
    """A persona reads what the policy does not give it; the message names the persona, the
    table and the rule."""


def _tag_text(tags: dict[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in tags.items())


def _first_mismatch(grant: Grant, tags: dict[str, str]) -> str:
    key, values = next((key, values) for key, values in grant.expression.items() if tags.get(key) not in values)
    return f"{key} in {', '.join(values)}"


@dataclass(frozen=True)
class TableAccess:
    """What `persona` may read of `table`: `columns` (in the table's order; none: the table
    is refused), the rows where `row_filter` holds (None: every row), the rules that give it
    and, for each refused column, why."""

    persona: str
    table: TableName
    columns: tuple[str, ...]
    row_filter: str | None
    rules: tuple[str, ...]
    refused_columns: dict[str, str] = field(default_factory=dict)
    refusal: str = ""

    @property
    def readable(self) -> bool:
        return bool(self.columns)

    def require_readable(self) -> TableAccess:
        if not self.readable:
            raise AccessDenied(self.refusal)
        return self

    def require_columns(self, columns: list[str] | tuple[str, ...]) -> None:
        """Refuse if any of `columns` is one the persona may not read."""
        refused = [column for column in columns if column in self.refused_columns]
        if refused:
            raise AccessDenied(self.refused_columns[refused[0]])


def persona_of(policy: Policy, name: str):
    try:
        return policy.personas[name]
    except KeyError:
        raise PolicyError(f"{shown(policy.path)}: no persona {name} (personas: {', '.join(policy.personas)})") from None


def read_access(policy: Policy, persona: str, table: TableName, columns: tuple[str, ...]) -> TableAccess:
    """What `persona` may read of `table`, whose columns are `columns`: through a data cells
    filter of the persona on the table, else through the grants whose expression its columns' tags match."""
    persona_of(policy, persona)
    cells = next((cells for cells in policy.filters if cells.table == table and persona in cells.personas), None)
    if cells is not None:
        rule = policy.filter_rule(cells)
        return TableAccess(persona, table, tuple(column for column in columns if column not in cells.excluded_columns),
                           cells.rows, (rule,),
                           {column: f"{persona} may not read column {column} of {table}: {rule} leaves it out"
                            for column in cells.excluded_columns})
    reading = [grant for grant in policy.grants if persona in grant.personas and READ in grant.table_permissions]
    granted: dict[str, list[Grant]] = {column: [grant for grant in reading
                                                 if grant.matches(policy.column_tags(table, column))]
                                       for column in columns}
    readable = tuple(column for column in columns if granted[column])
    rules = tuple(dict.fromkeys(policy.grant_rule(grant) for column in readable for grant in granted[column]))
    refused = {}
    for column in columns:
        if not granted[column]:
            tags = policy.column_tags(table, column)
            refused[column] = (f"{persona} may not read column {column} of {table} ({_tag_text(tags)}): "
                               + _why_not(policy, persona, reading, tags))
    tags = policy.table_tags(table)
    refusal = "" if readable else (f"{persona} may not read {table} ({_tag_text(tags)}): "
                                   + _why_not(policy, persona, reading, tags))
    return TableAccess(persona, table, readable, None, rules, refused, refusal)


def _why_not(policy: Policy, persona: str, reading: list[Grant], tags: dict[str, str]) -> str:
    if not reading:
        return f"persona {persona} ({policy.where(('personas', persona))}) has no grant with SELECT"
    return "; ".join(f"{policy.grant_rule(grant)} needs {_first_mismatch(grant, tags)}" for grant in reading)


def writes(policy: Policy, persona: str, table: TableName) -> tuple[str, ...]:
    """The grants by which `persona` may insert into or delete from `table`."""
    tags = policy.table_tags(table)
    return tuple(grant.name for grant in policy.grants
                 if persona in grant.personas and WRITES & set(grant.table_permissions) and grant.matches(tags))
