"""The feature tables and the model candidates computed by plain SQL in DuckDB.

An independent reference for the Spark transforms of `instacart_lake.transforms`: the SQL
in `sql/` is written from the feature definitions (product_time as a window rank, distinct
counts), not from the Spark code. Tests compare the two row for row; the benchmark
compares their running times.

Inputs are given by source table name (`orders`, `order_products__prior`,
`order_products__train`, `products`), each as a pyarrow table, a path to a Parquet file, a
folder of Parquet files or a CSV file with a header, or a list of Parquet files (the files
of one Delta table version). Every input is seen through a
view that casts its columns to the types of `instacart_lake.schemas`.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Mapping

import duckdb
import pyarrow as pa

from instacart_lake.schemas import SOURCE_TABLES

Source = pa.Table | str | os.PathLike | list[str | os.PathLike]

FEATURE_TABLES = ("user_features_1", "user_features_2", "prd_features", "up_features")

_DUCKDB_TYPES = {"int": "INTEGER", "bigint": "BIGINT", "string": "VARCHAR",
                 "double": "DOUBLE", "boolean": "BOOLEAN"}


def read_sql(name: str) -> str:
    """The text of sql/<name>.sql."""
    return resources.files(__package__).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def _scan(connection: duckdb.DuckDBPyConnection, name: str, source: Source) -> str:
    """A FROM clause reading `source`; a pyarrow table is registered under <name>_arrow."""
    if isinstance(source, pa.Table):
        connection.register(f"{name}_arrow", source)
        return f"{name}_arrow"
    if isinstance(source, list):
        return "read_parquet([" + ", ".join(f"'{Path(file).as_posix()}'" for file in source) + "])"
    path = Path(source)
    if path.is_dir():
        return f"read_parquet('{path.as_posix()}/**/*.parquet')"
    if path.suffix.lower() == ".csv":
        return f"read_csv('{path.as_posix()}', header = true)"
    return f"read_parquet('{path.as_posix()}')"


def connect(sources: Mapping[str, Source], threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one typed view per source table."""
    connection = duckdb.connect()
    if threads is not None:
        connection.execute(f"SET threads = {int(threads)}")
    for name, source in sources.items():
        table = SOURCE_TABLES[name]
        casts = ", ".join(
            f"CAST({column.name} AS {_DUCKDB_TYPES[column.type]}) AS {column.name}"
            for column in table.columns)
        connection.execute(
            f"CREATE VIEW {name} AS SELECT {casts} FROM {_scan(connection, name, source)}")
    return connection


def create_feature_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """Create prior_order_lines and the four feature tables in `connection`
    (needs the views orders and order_products__prior)."""
    connection.execute(f"CREATE TABLE prior_order_lines AS {read_sql('prior_order_lines')}")
    for name in FEATURE_TABLES:
        connection.execute(f"CREATE TABLE {name} AS {read_sql(name)}")


def create_candidates(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the candidates table (after create_feature_tables; needs the views
    order_products__train and products)."""
    connection.execute(f"CREATE TABLE candidates AS {read_sql('candidates')}")


def feature_tables(orders: Source, prior_lines: Source) -> dict[str, pa.Table]:
    """The four feature tables by name, as pyarrow tables."""
    connection = connect({"orders": orders, "order_products__prior": prior_lines})
    create_feature_tables(connection)
    return {name: connection.table(name).fetch_arrow_table() for name in FEATURE_TABLES}


def candidates(orders: Source, prior_lines: Source, train_lines: Source,
               products: Source) -> pa.Table:
    """The candidates with their features and labels, as a pyarrow table."""
    connection = connect({"orders": orders, "order_products__prior": prior_lines,
                          "order_products__train": train_lines, "products": products})
    create_feature_tables(connection)
    create_candidates(connection)
    return connection.table("candidates").fetch_arrow_table()
