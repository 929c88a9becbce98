"""The catalog tables a statement reads, looked up in the lake's catalog (the embedded one
locally, Glue on AWS): a table it does not have is an error that lists the ones it has."""

from __future__ import annotations

from instacart_lake.catalog import Catalog, EntityNotFoundError
from instacart_lake.query.errors import UnknownTableError
from instacart_lake.query.statement import Statement, TableName


def catalog_table_names(catalog: Catalog) -> list[str]:
    """Every `database.table` of the catalog, sorted."""
    return sorted(f"{database['Name']}.{table['Name']}"
                  for database in catalog.get_databases() for table in catalog.get_tables(database["Name"]))


def _get_table(catalog: Catalog, name: TableName) -> dict | None:
    try:
        return catalog.get_table(name.database, name.table)
    except EntityNotFoundError:
        return None


def resolve_tables(catalog: Catalog, statement: Statement) -> dict[TableName, dict]:
    """The catalog's Table of every table the statement reads."""
    found = {name: _get_table(catalog, name) for name in statement.tables}
    missing = [str(name) for name, table in found.items() if table is None]
    if missing:
        known = ", ".join(catalog_table_names(catalog)) or "none (run the pipeline first)"
        raise UnknownTableError(f"{statement.query.source}: no table {', '.join(missing)} in the catalog "
                                f"(tables: {known})")
    return found
