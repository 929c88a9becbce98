"""Queries on DuckDB over the lake's Delta tables, where no Athena runs.

Each table the statement reads is one Delta snapshot (delta-rs), registered in DuckDB as an
Arrow dataset under its Athena name `database.table`, so DuckDB reads only the columns and
files the query needs; the statement runs transpiled from Trino to DuckDB's dialect.
"""

from __future__ import annotations

import duckdb
import sqlglot
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError
from sqlglot import exp

from instacart_lake.governance.access import TableAccess
from instacart_lake.governance.checks import ROW_FILTER_DIALECT
from instacart_lake.locations import is_local, uri_to_path
from instacart_lake.query.errors import QueryError
from instacart_lake.query.result import Column, QueryResult
from instacart_lake.query.statement import Statement, TableName

DIALECT = "duckdb"
DELTA_TABLE_TYPE = "DELTA"


WIDER_THAN_TRINO = {"HUGEINT": "BIGINT"}
"""DuckDB sums integers into HUGEINT where Trino gives BIGINT."""


def _trino_type(duckdb_type: object) -> str:
    """DuckDB's name of a result type in Trino's spelling (INTEGER[] -> array(integer))."""
    name = WIDER_THAN_TRINO.get(str(duckdb_type), str(duckdb_type))
    return exp.DataType.build(name, dialect=DIALECT).sql("trino").lower()


def _snapshot(name: TableName, table: dict, source: str):
    location = table.get("StorageDescriptor", {}).get("Location", "")
    if table.get("Parameters", {}).get("table_type", "").upper() != DELTA_TABLE_TYPE:
        kind = table.get("Parameters", {}).get("classification") or table.get("TableType")
        raise QueryError(f"{source}: {name} is a {kind} table at {location}; locally lake query reads the "
                         "Delta tables (clean, curated, ml), Athena reads every table")
    if not is_local(location):
        raise QueryError(f"{source}: {name} is at {location}; the local engine reads local tables "
                         "(use --profile aws to run on Athena)")
    try:
        return DeltaTable(uri_to_path(location)).to_pyarrow_dataset()
    except (DeltaError, OSError) as error:
        raise QueryError(f"{source}: {name} at {location} cannot be read as a Delta table ({error})") from None


def view_query(snapshot: str, access: TableAccess | None) -> str:
    """The view of a snapshot: all of it, or the columns and rows a persona may read."""
    if access is None:
        return f'SELECT * FROM "{snapshot}"'
    columns = ", ".join(f'"{column}"' for column in access.columns)
    rows = (f" WHERE {sqlglot.transpile(access.row_filter, read=ROW_FILTER_DIALECT, write=DIALECT)[0]}"
            if access.row_filter else "")
    return f'SELECT {columns} FROM "{snapshot}"{rows}'


def run_on_duckdb(statement: Statement, tables: dict[TableName, dict],
                  accesses: dict[TableName, TableAccess] | None = None) -> QueryResult:
    """Run the statement over the snapshots of `tables` (their catalog entries), each seen
    through its persona's access when `accesses` are given."""
    source = statement.query.source
    with duckdb.connect() as connection:
        connection.execute("SET enable_progress_bar = false")
        for index, (name, table) in enumerate(tables.items()):
            arrow_name = f"delta_snapshot_{index}"
            connection.register(arrow_name, _snapshot(name, table, source))
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{name.database}"')
            view = view_query(arrow_name, accesses[name] if accesses is not None else None)
            connection.execute(f'CREATE VIEW "{name.database}"."{name.table}" AS {view}')
        try:
            cursor = connection.execute(statement.sql(DIALECT))
            rows = cursor.fetchall()
        except duckdb.Error as error:
            raise QueryError(f"{source}: DuckDB: {error}") from None
        columns = tuple(Column(name, _trino_type(duckdb_type)) for name, duckdb_type, *_ in cursor.description)
    return QueryResult(columns, rows, engine="duckdb")
