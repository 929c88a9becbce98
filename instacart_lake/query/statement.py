"""A named query as one parsed Trino statement: parameters bound as typed literals, the
tables it reads, and its SQL in another engine's dialect (sqlglot)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from instacart_lake.catalog.names import TableName
from instacart_lake.query.errors import ParameterError, QueryError, QuerySyntaxError, UnknownTableError
from instacart_lake.query.named import NamedQuery, Parameter

SOURCE_DIALECT = "trino"
"""Athena engine 3's SQL: the dialect every query is written in."""


@dataclass(frozen=True)
class Statement:
    query: NamedQuery
    expression: exp.Expression

    @property
    def tables(self) -> tuple[TableName, ...]:
        """The catalog tables the statement reads, each once."""
        return referenced_tables(self.query.source, self.expression)

    def sql(self, dialect: str) -> str:
        return self.expression.sql(dialect=dialect, pretty=True)


def _syntax_error(source: str, error: ParseError) -> QuerySyntaxError:
    first = error.errors[0] if error.errors else {}
    line, end_column, highlight = first.get("line"), first.get("col"), first.get("highlight") or ""
    description = first.get("description") or str(error)
    if line is None:
        return QuerySyntaxError(f"{source}: syntax error: {description}")
    column = max(1, end_column - len(highlight) + 1) if end_column else 1
    return QuerySyntaxError(f"{source}:{line}:{column}: syntax error: {description}")


def parse_statement(query: NamedQuery) -> exp.Expression:
    """The one statement of the query; a syntax error names the file, line and column (sqlglot
    reports the column where the offending token ends; the message gives where it starts)."""
    try:
        statements = [statement for statement in sqlglot.parse(query.sql, read=SOURCE_DIALECT) if statement]
    except ParseError as error:
        raise _syntax_error(query.source, error) from None
    except TokenError as error:
        raise QuerySyntaxError(f"{query.source}: syntax error: {error}") from None
    if len(statements) != 1:
        raise QueryError(f"{query.source}: a query file holds one statement, this one has {len(statements)}")
    return statements[0]


def _literal(parameter: Parameter, value: str, source: str) -> exp.Expression:
    try:
        if parameter.type in ("integer", "bigint"):
            return exp.Literal.number(int(value))
        if parameter.type == "double":
            return exp.Literal.number(float(value))
        if parameter.type == "boolean":
            if value.lower() not in ("true", "false"):
                raise ValueError(value)
            return exp.Boolean(this=value.lower() == "true")
        if parameter.type == "date":
            return exp.cast(exp.Literal.string(dt.date.fromisoformat(value).isoformat()), exp.DataType.Type.DATE)
    except ValueError:
        raise ParameterError(f"{source}: parameter {parameter.name} is {parameter.type}, "
                             f"{value!r} is not one") from None
    return exp.Literal.string(value)


def bind(query: NamedQuery, values: Mapping[str, str]) -> Statement:
    """The parsed statement with each `:name` replaced by its value (or declared default) as a
    literal of the declared type."""
    expression = parse_statement(query)
    declared = {parameter.name: parameter for parameter in query.parameters}
    used = {placeholder.name for placeholder in expression.find_all(exp.Placeholder)}
    if "" in used or "?" in used:
        raise QueryError(f"{query.source}: parameters are named (`:name`), not `?`")
    undeclared = sorted(used - set(declared))
    if undeclared:
        raise QueryError(f"{query.source}: parameter {', '.join(undeclared)} is used but not declared in the "
                         "header (`-- :name type  description`)")
    unknown = sorted(set(values) - set(declared))
    if unknown:
        offered = ", ".join(declared) or "none"
        raise ParameterError(f"{query.source}: no parameter {', '.join(unknown)} (parameters: {offered})")
    literals = {}
    for name in used:
        parameter = declared[name]
        value = values.get(name, parameter.default)
        if value is None:
            raise ParameterError(f"{query.source}: missing parameter {name} ({parameter.type}: "
                                 f"{parameter.description}); give it with --param {name}=VALUE")
        literals[name] = _literal(parameter, value, query.source)
    bound = expression.transform(
        lambda node: literals[node.name].copy() if isinstance(node, exp.Placeholder) else node)
    return Statement(query, bound)


def referenced_tables(source: str, expression: exp.Expression) -> tuple[TableName, ...]:
    """The `database.table` names the expression reads (common table expressions aside); a
    table without its database is an error, since Athena's named queries name both."""
    cte_names = {cte.alias_or_name.lower() for cte in expression.find_all(exp.CTE)}
    tables: dict[TableName, None] = {}
    for table in expression.find_all(exp.Table):
        if not table.name:
            continue
        if not table.db:
            if table.name.lower() in cte_names:
                continue
            raise UnknownTableError(f"{source}: table {table.name} needs its database (database.table, "
                                    "e.g. instacart_clean.orders)")
        tables[TableName(table.db.lower(), table.name.lower())] = None
    return tuple(tables)
