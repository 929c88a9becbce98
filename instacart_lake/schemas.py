"""The six Instacart source tables, declared once: file names, column order, types, keys.

Types are Glue/Hive type names (what the catalog stores); `spark_schema` turns them into
Spark types. Headers and column order are exactly those of the published files.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import types as T


@dataclass(frozen=True)
class Column:
    """A declared column: its type, whether it may be empty, the values it may take, and for
    text the most characters a value may have (job 1 quarantines a longer one as
    `too_long:<column>`; the clean ruleset's ColumnLength rule states the same bound)."""

    name: str
    type: str
    nullable: bool = False
    minimum: int | None = None
    maximum: int | None = None
    allowed: tuple[str, ...] | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class ForeignKey:
    column: str
    table: str
    referenced_column: str


@dataclass(frozen=True)
class SourceTable:
    """One Instacart CSV file and the clean table it becomes."""

    name: str
    grain: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    order_eval_set: str | None = None
    """For order lines: the eval_set that every referenced order must have."""

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    def spark_schema(self) -> T.StructType:
        return T.StructType(
            [T.StructField(c.name, _SPARK_TYPES[c.type], c.nullable) for c in self.columns]
        )


_SPARK_TYPES = {"int": T.IntegerType(), "bigint": T.LongType(), "string": T.StringType(),
                "double": T.DoubleType(), "boolean": T.BooleanType()}

EVAL_SETS = ("prior", "train", "test")

_ORDER_LINE_COLUMNS = (
    Column("order_id", "int", minimum=1),
    Column("product_id", "int", minimum=1),
    Column("add_to_cart_order", "int", minimum=1),
    Column("reordered", "int", minimum=0, maximum=1),
)
_ORDER_LINE_FOREIGN_KEYS = (
    ForeignKey("order_id", "orders", "order_id"),
    ForeignKey("product_id", "products", "product_id"),
)

SOURCE_TABLES: dict[str, SourceTable] = {
    table.name: table
    for table in (
        SourceTable(
            "aisles", "one row per aisle",
            (Column("aisle_id", "int", minimum=1), Column("aisle", "string", max_length=200)), ("aisle_id",)),
        SourceTable(
            "departments", "one row per department",
            (Column("department_id", "int", minimum=1), Column("department", "string", max_length=200)),
            ("department_id",)),
        SourceTable(
            "products", "one row per product",
            (Column("product_id", "int", minimum=1), Column("product_name", "string", max_length=500),
             Column("aisle_id", "int", minimum=1), Column("department_id", "int", minimum=1)),
            ("product_id",),
            foreign_keys=(ForeignKey("aisle_id", "aisles", "aisle_id"),
                          ForeignKey("department_id", "departments", "department_id"))),
        SourceTable(
            "orders", "one row per order",
            (Column("order_id", "int", minimum=1), Column("user_id", "int", minimum=1),
             Column("eval_set", "string", allowed=EVAL_SETS),
             Column("order_number", "int", minimum=1, maximum=100),
             Column("order_dow", "int", minimum=0, maximum=6),
             Column("order_hour_of_day", "int", minimum=0, maximum=23),
             Column("days_since_prior_order", "int", nullable=True, minimum=0, maximum=30)),
            ("order_id",)),
        SourceTable(
            "order_products__prior", "one row per product in a prior order",
            _ORDER_LINE_COLUMNS, ("order_id", "product_id"),
            foreign_keys=_ORDER_LINE_FOREIGN_KEYS, order_eval_set="prior"),
        SourceTable(
            "order_products__train", "one row per product in a train order",
            _ORDER_LINE_COLUMNS, ("order_id", "product_id"),
            foreign_keys=_ORDER_LINE_FOREIGN_KEYS, order_eval_set="train"),
    )
}

NAME_COLUMNS = frozenset({"aisle", "department", "product_name"})
"""Free-text names: standardized to one Unicode normal form (NFC) and single spaces."""

def source_table_for_file(file_name: str) -> SourceTable | None:
    """The source table a file name belongs to (`orders.csv` -> orders), or None. Names are
    matched exactly as the data contract publishes them: `Orders.csv` and `orders.CSV` are not
    orders.csv."""
    return next((table for table in SOURCE_TABLES.values() if table.file_name == file_name), None)


@dataclass(frozen=True)
class EventSchema:
    """A JSON event of the stream: its top-level fields, the array of its lines and the
    fields of one line, the Kinesis partition key, and the clean tables it becomes."""

    name: str
    grain: str
    fields: tuple[Column, ...]
    lines_field: str
    line_fields: tuple[Column, ...]
    partition_key: str
    key: str
    order_table: str
    """The clean table that takes one row per event (its `fields` that the table declares)."""

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.fields)

    @property
    def line_field_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.line_fields)

    def line_table(self, eval_set: str) -> SourceTable | None:
        """The clean table of the lines of an order of `eval_set` (None for test orders)."""
        return next((t for t in SOURCE_TABLES.values() if t.order_eval_set == eval_set), None)


ORDER_EVENT = EventSchema(
    name="order_events",
    grain="one event per placed order, with its lines",
    fields=(Column("event_id", "string"), Column("event_time", "timestamp"), *SOURCE_TABLES["orders"].columns),
    lines_field="lines",
    line_fields=tuple(column for column in _ORDER_LINE_COLUMNS if column.name != "order_id"),
    partition_key="user_id",
    key="event_id",
    order_table="orders",
)
"""An order event (JSON, one line): `event_id` (unique per event; a repeat is a redelivery),
`event_time` (ISO-8601 UTC, when the order was placed), the fields of orders.csv, and
`lines`: an array of {product_id, add_to_cart_order, reordered}, empty for a test order.
Integers are JSON integers; `days_since_prior_order` is null on a user's first order."""
