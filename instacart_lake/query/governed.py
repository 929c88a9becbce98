"""`lake query --as PERSONA`: what the persona may read of each table a statement reads,
decided by instacart_lake.governance from the access policy. A table it may not read, or a
column it may not read that the statement names, refuses the query; the local engine then
shows each table as the persona's view of it (its columns, its rows)."""

from __future__ import annotations

from sqlglot import exp

from instacart_lake.context import Lake
from instacart_lake.governance.access import TableAccess, persona_of, read_access
from instacart_lake.governance.loading import load_policy
from instacart_lake.query.statement import Statement, TableName


def catalog_columns(table: dict) -> tuple[str, ...]:
    """A catalog table's columns, partition keys last, as Glue lists them."""
    return tuple(column["Name"] for column in [*table.get("StorageDescriptor", {}).get("Columns", []),
                                                *table.get("PartitionKeys", [])])


def refuse_named_columns(statement: Statement, accesses: dict[TableName, TableAccess]) -> None:
    """Refuse a statement that names a column the persona may not read: qualified by its
    table (or the table's alias), or unqualified where no table it reads gives that column."""
    by_qualifier = {table.alias_or_name.lower(): TableName(table.db.lower(), table.name.lower())
                    for table in statement.expression.find_all(exp.Table) if table.db}
    readable_anywhere = {column for access in accesses.values() for column in access.columns}
    for column in statement.expression.find_all(exp.Column):
        name, qualifier = column.name.lower(), column.table.lower()
        if qualifier in by_qualifier:
            accesses[by_qualifier[qualifier]].require_columns([name])
        elif not qualifier and name not in readable_anywhere:
            for access in accesses.values():
                access.require_columns([name])


def persona_access(lake: Lake, statement: Statement, tables: dict[TableName, dict],
                   persona: str) -> dict[TableName, TableAccess]:
    """What `persona` may read of each of `tables` (their catalog entries); refused as
    AccessDenied when it may not read one of them or a column the statement names."""
    policy = load_policy(lake.locations)
    persona_of(policy, persona)
    accesses = {name: read_access(policy, persona, name, catalog_columns(table)).require_readable()
                for name, table in tables.items()}
    refuse_named_columns(statement, accesses)
    return accesses
