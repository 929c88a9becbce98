"""The six Instacart source tables, declared once: file names, column order, types, keys.

Types are Glue/Hive type names (what the catalog stores); `spark_schema` turns them into
Spark types. Headers and column order are exactly those of the published files.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import types as T


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = False


@dataclass(frozen=True)
class SourceTable:
    """One Instacart CSV file and the clean table it becomes."""

    name: str
    grain: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def spark_schema(self) -> T.StructType:
        return T.StructType(
            [T.StructField(c.name, _SPARK_TYPES[c.type], c.nullable) for c in self.columns]
        )


_SPARK_TYPES = {"int": T.IntegerType(), "bigint": T.LongType(), "string": T.StringType(),
                "double": T.DoubleType(), "boolean": T.BooleanType()}

_ORDER_LINE_COLUMNS = (
    Column("order_id", "int"),
    Column("product_id", "int"),
    Column("add_to_cart_order", "int"),
    Column("reordered", "int"),
)

SOURCE_TABLES: dict[str, SourceTable] = {
    table.name: table
    for table in (
        SourceTable(
            "aisles", "one row per aisle",
            (Column("aisle_id", "int"), Column("aisle", "string")), ("aisle_id",)),
        SourceTable(
            "departments", "one row per department",
            (Column("department_id", "int"), Column("department", "string")), ("department_id",)),
        SourceTable(
            "products", "one row per product",
            (Column("product_id", "int"), Column("product_name", "string"),
             Column("aisle_id", "int"), Column("department_id", "int")),
            ("product_id",)),
        SourceTable(
            "orders", "one row per order",
            (Column("order_id", "int"), Column("user_id", "int"), Column("eval_set", "string"),
             Column("order_number", "int"), Column("order_dow", "int"),
             Column("order_hour_of_day", "int"),
             Column("days_since_prior_order", "int", nullable=True)),
            ("order_id",)),
        SourceTable(
            "order_products__prior", "one row per product in a prior order",
            _ORDER_LINE_COLUMNS, ("order_id", "product_id")),
        SourceTable(
            "order_products__train", "one row per product in a train order",
            _ORDER_LINE_COLUMNS, ("order_id", "product_id")),
    )
}

EVAL_SETS = ("prior", "train", "test")


def source_table_for_file(file_name: str) -> SourceTable | None:
    """The source table a file name belongs to (`orders.csv` -> orders), or None."""
    stem = file_name[:-4] if file_name.lower().endswith(".csv") else None
    return SOURCE_TABLES.get(stem) if stem else None
