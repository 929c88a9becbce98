"""What `lake governance check` refuses: a policy naming a table, column, tag, tag value,
persona or zone that does not exist, a grant that names no tag value or no permission, a row
filter that does not parse or names an unknown column, and a data cells filter that a tag
grant of the same persona would override (Lake Formation gives the union of both)."""

from __future__ import annotations

from collections import Counter
from typing import Hashable, Iterator

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from instacart_lake.catalog.names import TableName
from instacart_lake.config import ZONES
from instacart_lake.governance.policy import (
    DATABASE_PERMISSIONS,
    TABLE_PERMISSIONS,
    Policy,
    PolicyError,
)

LakeTables = dict[TableName, tuple[str, ...]]
ROW_FILTER_DIALECT = "athena"
"""How a row filter expression is read: Lake Formation's filters are SQL conditions of Athena's dialect."""


def row_filter_columns(rows: str) -> set[str]:
    """The columns a row filter expression reads; a ValueError if it does not parse."""
    try:
        expression = sqlglot.parse_one(rows, read=ROW_FILTER_DIALECT)
    except (ParseError, TokenError) as error:
        raise ValueError(str(error).splitlines()[0]) from None
    return {column.name for column in expression.find_all(exp.Column)}


class _Checker:
    def __init__(self, policy: Policy, tables: LakeTables):
        self.policy = policy
        self.tables = tables
        self.databases = {table.database for table in tables}

    def problem(self, where: tuple[Hashable, ...], message: str, value: str | None = None) -> str:
        return f"{self.policy.where(where, value)}: {message}"

    def tag_problems(self, tags: dict[str, str], where: tuple[Hashable, ...]) -> Iterator[str]:
        for key, value in tags.items():
            if key not in self.policy.tags:
                yield self.problem((*where, key), f"unknown tag {key} (tags: {', '.join(self.policy.tags)})")
            elif value not in self.policy.tags[key]:
                yield self.problem((*where, key), f"tag {key} has no value {value!r} "
                                                  f"(values: {', '.join(self.policy.tags[key])})", value)

    def table_problems(self, table: TableName, where: tuple[Hashable, ...], value: str) -> Iterator[str]:
        if table not in self.tables:
            known = sorted(str(name) for name in self.tables if name.database == table.database)
            yield self.problem(where, f"unknown table {table} (" + (
                f"{table.database} has {', '.join(known)})" if known
                else f"databases: {', '.join(sorted(self.databases))})"), value)

    def persona_problems(self, personas: tuple[str, ...], where: tuple[Hashable, ...]) -> Iterator[str]:
        for name in personas:
            if name not in self.policy.personas:
                yield self.problem(where, f"unknown persona {name} (personas: {', '.join(self.policy.personas)})",
                                   name)

    def assignments(self) -> Iterator[str]:
        for key, values in self.policy.tags.items():
            if not values:
                yield self.problem(("tags", key), f"tag {key} has no value")
            for value, count in Counter(values).items():
                if count > 1:
                    yield self.problem(("tags", key), f"tag {key} lists {value!r} {count} times", value)
        for database, tags in self.policy.databases.items():
            if database not in self.databases:
                yield self.problem(("databases", database),
                                   f"unknown database {database} (databases: {', '.join(sorted(self.databases))})")
            yield from self.tag_problems(tags, ("databases", database))
        for table, tags in self.policy.tables.items():
            yield from self.table_problems(table, ("tables", str(table)), None)
            yield from self.tag_problems(tags, ("tables", str(table)))
        for (table, column), tags in self.policy.columns.items():
            where = ("columns", f"{table}.{column}")
            if table not in self.tables:
                yield from self.table_problems(table, where, None)
            elif column not in self.tables[table]:
                yield self.problem(where, f"unknown column {column} of {table} (columns: "
                                          f"{', '.join(self.tables[table])})")
            yield from self.tag_problems(tags, where)

    def personas(self) -> Iterator[str]:
        for persona in self.policy.personas.values():
            for location in persona.data_locations:
                if location.partition("/")[0] not in ZONES:
                    yield self.problem(("personas", persona.name, "data_locations"),
                                       f"persona {persona.name}: data location {location!r} is not a zone "
                                       f"({', '.join(ZONES)}) or zone/prefix", location)

    def grants(self) -> Iterator[str]:
        for name, count in Counter(grant.name for grant in self.policy.grants).items():
            if count > 1:
                yield self.problem(("grants",), f"{count} grants are named {name}", name)
        for grant in self.policy.grants:
            where = ("grants", grant.index)
            yield from self.persona_problems(grant.personas, (*where, "personas"))
            if not grant.expression:
                yield self.problem((*where, "expression"), f"grant {grant.name} names no tag value (its expression "
                                                           "is empty: it would match everything)")
            for key, values in grant.expression.items():
                if key not in self.policy.tags:
                    yield self.problem((*where, "expression"), f"grant {grant.name}: unknown tag {key} "
                                                               f"(tags: {', '.join(self.policy.tags)})")
                    continue
                if not values:
                    yield self.problem((*where, "expression"), f"grant {grant.name} names no value of tag {key}")
                for value in values:
                    if value not in self.policy.tags[key]:
                        known = ", ".join(self.policy.tags[key])
                        yield self.problem((*where, "expression"), f"grant {grant.name}: tag {key} has no value "
                                                                   f"{value!r} (values: {known})", value)
            if not grant.table_permissions and not grant.database_permissions:
                yield self.problem(where, f"grant {grant.name} gives no permission (table_permissions, "
                                          "database_permissions)")
            for key, allowed, given in (("table_permissions", TABLE_PERMISSIONS, grant.table_permissions),
                                        ("database_permissions", DATABASE_PERMISSIONS, grant.database_permissions)):
                for permission in given:
                    if permission not in allowed:
                        yield self.problem((*where, key), f"grant {grant.name}: {permission} is not one of the "
                                                          f"{key} ({', '.join(allowed)})", permission)

    def filters(self) -> Iterator[str]:
        for name, count in Counter(cells.name for cells in self.policy.filters).items():
            if count > 1:
                yield self.problem(("filters",), f"{count} filters are named {name}", name)
        for cells in self.policy.filters:
            where = ("filters", cells.index)
            yield from self.persona_problems(cells.personas, (*where, "personas"))
            if cells.table not in self.tables:
                yield from self.table_problems(cells.table, (*where, "table"), str(cells.table))
                continue
            columns = self.tables[cells.table]
            for column in cells.excluded_columns:
                if column not in columns:
                    yield self.problem((*where, "excluded_columns"), f"filter {cells.name}: unknown column {column} "
                                                                     f"of {cells.table}", column)
            if set(columns) <= set(cells.excluded_columns):
                yield self.problem((*where, "excluded_columns"), f"filter {cells.name} excludes every column")
            if cells.rows is not None:
                try:
                    unknown = sorted(row_filter_columns(cells.rows) - set(columns))
                except ValueError as error:
                    yield self.problem((*where, "rows"), f"filter {cells.name}: rows does not parse: {error}")
                else:
                    if unknown:
                        yield self.problem((*where, "rows"), f"filter {cells.name}: rows names unknown column "
                                                             f"{', '.join(unknown)} of {cells.table}")
            yield from self.overriding_grants(cells, columns)

    def overriding_grants(self, cells, columns: tuple[str, ...]) -> Iterator[str]:
        for persona in cells.personas:
            if sum(persona in other.personas and other.table == cells.table for other in self.policy.filters) > 1:
                yield self.problem(("filters", cells.index, "personas"),
                                   f"filter {cells.name}: {persona} has more than one filter on {cells.table}", persona)
            for grant in self.policy.grants:
                if persona in grant.personas and "SELECT" in grant.table_permissions and any(
                        grant.matches(self.policy.column_tags(cells.table, column)) for column in columns):
                    yield self.problem(("filters", cells.index, "personas"),
                                       f"filter {cells.name}: {persona} reads {cells.table} through grant {grant.name} "
                                       "as well, and Lake Formation would give it the union of both", persona)


def policy_problems(policy: Policy, tables: LakeTables) -> list[str]:
    """Every problem of the policy, each `file:line: what is wrong`."""
    checker = _Checker(policy, tables)
    return [*checker.assignments(), *checker.personas(), *checker.grants(), *checker.filters()]


def checked(policy: Policy, tables: LakeTables) -> Policy:
    """The policy, or a PolicyError with its first problem (and how many there are)."""
    problems = policy_problems(policy, tables)
    if problems:
        more = f" (and {len(problems) - 1} more: lake governance check lists them)" if len(problems) > 1 else ""
        raise PolicyError(problems[0] + more)
    return policy
