"""Job 1's pure transforms of order events: delivered lines to checked events, and clean events
to rows of orders and order_products__prior/__train.

Input is one row per delivered line (`source_file`, `line_number`: 1-based in the delivered
object, `value`). An event is checked as a whole and ends in one place: clean (its order and
lines become clean rows), quarantined (with its reasons), or dropped as an exact duplicate.
The checks are those of the batch files (instacart_lake.transforms.raw_to_clean) on the
same declared columns, plus JSON's own: `invalid_json` (not a JSON object), `wrong_type:<field>`
(a string where the schema has an integer, ...), `missing_value:lines`; an event that JSON
already refuses carries those reasons alone. A line's field is named `lines.<field>`.
Against other events and the clean tables: a repeated event (same `event_id` and values, or
another event with the same order and values, or an order already clean with the same
values and lines) is an exact duplicate; the same `event_id` with other values is
`event_id_reused`; two events of one order with other values, `conflicting_order_event` (the
first delivered wins); an order already clean with other values or lines,
`order_exists_with_other_values`.
"""

from __future__ import annotations

import dataclasses
import json
from functools import reduce

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from instacart_lake.schemas import ORDER_EVENT, SOURCE_TABLES, Column, SourceTable
from instacart_lake.transforms.raw_to_clean import (
    CLEAN,
    LINE_COLUMNS,
    QUARANTINED,
    assign_disposition,
    clean_rows,
    reasons_for_field,
    reasons_for_row,
    standardize,
)

ORDERS = SOURCE_TABLES[ORDER_EVENT.order_table]
LINES = ORDER_EVENT.lines_field
_JSON_TYPES = {"int": (int,), "string": (str,), "timestamp": (str,)}
_LINE_TYPE = "struct<add_to_cart_order:int,product_id:int,reordered:int>"
_TEXT_LINE = T.StructType([T.StructField(name, T.StringType()) for name in ORDER_EVENT.line_field_names])
_TEXT_EVENT = T.StructType([
    T.StructField("json_reasons", T.ArrayType(T.StringType())),
    *[T.StructField(name, T.StringType()) for name in ORDER_EVENT.field_names],
    T.StructField(LINES, T.ArrayType(_TEXT_LINE)),
])


def _field_text(value, column: Column, reasons: list[str], label: str) -> str | None:
    """A JSON value as the text the batch checks read (None when absent), or a wrong_type reason."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, _JSON_TYPES[column.type]):
        reasons.append(f"wrong_type:{label}")
        return None
    return str(value)


def event_texts(line: str | None) -> dict:
    """The fields of one delivered line as texts, and what JSON itself got wrong: not a JSON
    object, a value of the wrong JSON type, lines that are not an array of objects."""
    try:
        document = json.loads(line) if line else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return {"json_reasons": ["invalid_json"], LINES: None}
    reasons: list[str] = []
    texts = {column.name: _field_text(document.get(column.name), column, reasons, column.name)
             for column in ORDER_EVENT.fields}
    lines = document.get(LINES)
    line_texts = None
    if lines is None:
        reasons.append(f"missing_value:{LINES}")
    elif not isinstance(lines, list) or not all(isinstance(item, dict) for item in lines):
        reasons.append(f"wrong_type:{LINES}")
    else:
        line_texts = [{column.name: _field_text(item.get(column.name), column, reasons, f"{LINES}.{column.name}")
                       for column in ORDER_EVENT.line_fields} for item in lines]
    return {"json_reasons": sorted(set(reasons)), **texts, LINES: line_texts}


_event_texts = F.udf(event_texts, _TEXT_EVENT).asNondeterministic()
"""event_texts on Spark (a row-at-a-time UDF: Arrow does not carry its array of structs back),
marked nondeterministic so that the optimizer evaluates it once per line, never copied into
several expressions or stacked under filters."""


def _line_struct(text: SparkColumn) -> SparkColumn:
    return F.struct(*[standardize(column, text[column.name]).alias(column.name) for column in ORDER_EVENT.line_fields])


def _line_reasons(text: SparkColumn) -> SparkColumn:
    labelled = [dataclasses.replace(column, name=f"{LINES}.{column.name}") for column in ORDER_EVENT.line_fields]
    reasons = [reason for column, named in zip(ORDER_EVENT.line_fields, labelled)
               for reason in reasons_for_field(named, text[column.name], standardize(column, text[column.name]))]
    return F.array_compact(F.array(*reasons))


def _event_time(text: SparkColumn) -> SparkColumn:
    return F.to_timestamp(text)


def parse_events(lines: DataFrame) -> DataFrame:
    """One row per delivered line: the event's fields typed (`lines` an array of structs), the
    line as it was (`value`) and `reasons` (empty when the event is valid)."""
    parsed = lines.select(*LINE_COLUMNS, "value", _event_texts(F.col("value")).alias("_json"))
    texts = {column.name: F.col(f"_json.{column.name}") for column in ORDER_EVENT.fields}
    typed = {column.name: standardize(column, texts[column.name]) for column in ORDER_EVENT.fields}
    typed["event_time"] = _event_time(texts["event_time"])
    line_texts = F.col(f"_json.{LINES}")
    field_reasons = [reason for column in ORDER_EVENT.fields
                     for reason in reasons_for_field(column, texts[column.name], typed[column.name])]
    field_reasons.append(F.when(texts["event_time"].isNotNull() & typed["event_time"].isNull(),
                                F.lit("unparsable_timestamp:event_time")))
    order_rules = reasons_for_row(ORDERS, texts)
    with_rows = parsed.select("*", *[value.alias(name) for name, value in typed.items()])
    products = F.transform(line_texts, lambda line: line["product_id"])
    line_rules = [
        F.when(F.size(F.array_distinct(products)) < F.size(products), F.lit(f"duplicate_key:{LINES}.product_id")),
        F.when((F.col("eval_set") == "test") & (F.size(line_texts) > 0), F.lit("order_eval_set_mismatch")),
    ]
    reasons = F.when(
        F.size("_json.json_reasons") > 0, F.col("_json.json_reasons"),
    ).otherwise(F.array_distinct(F.concat(
        F.array_compact(F.array(*field_reasons, *order_rules, *line_rules)),
        F.coalesce(F.flatten(F.transform(line_texts, _line_reasons)), F.array().cast("array<string>")),
    )))
    return with_rows.select(
        *ORDER_EVENT.field_names,
        F.transform(line_texts, _line_struct).alias(LINES),
        *LINE_COLUMNS, "value", reasons.alias("reasons"),
    )


def product_reasons(events: DataFrame, products: DataFrame) -> DataFrame:
    """Adds `unknown_product_id` to the reasons of valid events with a product that has no
    clean row in `products` (its `product_id` column)."""
    is_valid = F.size("reasons") == 0
    product_ids = (events.where(is_valid)
                   .select(*LINE_COLUMNS, F.explode(f"{LINES}.product_id").alias("product_id")).distinct())
    unknown = (product_ids.join(F.broadcast(products.select("product_id").distinct()), on="product_id",
                                how="left_anti")
               .select(*LINE_COLUMNS).distinct().withColumn("_has_unknown_product", F.lit(True)))
    return (events.join(unknown, on=list(LINE_COLUMNS), how="left")
            .withColumn("reasons", F.when(F.col("_has_unknown_product"),
                                          F.concat("reasons", F.array(F.lit("unknown_product_id"))))
                        .otherwise(F.col("reasons")))
            .drop("_has_unknown_product"))


def _sorted_lines(lines: SparkColumn) -> SparkColumn:
    """An order's lines in cart order, as comparable values."""
    return F.array_sort(F.transform(lines, lambda line: F.struct(
        *[line[name].alias(name) for name in ("add_to_cart_order", "product_id", "reordered")])))


def order_contents(orders: DataFrame, line_tables: list[DataFrame], order_ids: DataFrame) -> DataFrame:
    """One row per order of `orders` (clean rows) among `order_ids`: `order_id` and `content`,
    its values and its lines (from the clean `line_tables`) in the form events are compared in."""
    wanted = orders.join(order_ids, on="order_id", how="left_semi")
    lines = [table.select("order_id", "add_to_cart_order", "product_id", "reordered") for table in line_tables]
    if not lines:
        return wanted.select("order_id", _content(F.array().cast(f"array<{_LINE_TYPE}>")).alias("content"))
    grouped = (reduce(DataFrame.unionByName, lines)
               .join(order_ids, on="order_id", how="left_semi")
               .groupBy("order_id")
               .agg(F.collect_list(F.struct("add_to_cart_order", "product_id", "reordered")).alias("_lines")))
    with_lines = wanted.join(grouped, on="order_id", how="left")
    empty = F.array().cast(f"array<{_LINE_TYPE}>")
    return with_lines.select("order_id", _content(F.coalesce("_lines", empty)).alias("content"))


def _content(lines: SparkColumn) -> SparkColumn:
    order_values = [F.col(name) for name in ORDERS.column_names]
    return F.struct(F.struct(*order_values).alias("order"), _sorted_lines(lines).alias(LINES))


def mark_event_duplicates(events: DataFrame, known: DataFrame | None) -> DataFrame:
    """Adds `duplicate` (`exact` or None) and the reasons of repeated events with other values,
    by event_id, then by order among this run's events, then against `known` (order_contents
    of the orders already clean); expects `reasons` (parse_events, product_reasons)."""
    is_valid = F.size("reasons") == 0
    with_content = events.withColumn("_content", _content(F.col(LINES)))
    valid = with_content.where(is_valid)
    position = [F.col(name) for name in LINE_COLUMNS]
    by_event = Window.partitionBy("event_id").orderBy(*position)
    by_order = Window.partitionBy("order_id").orderBy(*position)
    first_of_event = F.first("_content").over(by_event.rowsBetween(Window.unboundedPreceding, Window.currentRow))
    first_of_order = F.first("_content").over(by_order.rowsBetween(Window.unboundedPreceding, Window.currentRow))
    marked = (
        valid
        .withColumn("_event_rank", F.row_number().over(by_event))
        .withColumn("_event_differs", F.col("_content") != first_of_event)
        .withColumn("_order_rank", F.row_number().over(by_order))
        .withColumn("_order_differs", F.col("_content") != first_of_order)
    )
    if known is not None:
        marked = marked.join(known.select("order_id", F.col("content").alias("_known")), on="order_id", how="left")
    else:
        marked = marked.withColumn("_known", F.lit(None).cast(marked.schema["_content"].dataType))
    new_reason = (
        F.when((F.col("_event_rank") > 1) & F.col("_event_differs"), F.lit("event_id_reused"))
        .when((F.col("_order_rank") > 1) & F.col("_order_differs"), F.lit("conflicting_order_event"))
        .when(F.col("_known").isNotNull() & (F.col("_known") != F.col("_content")),
              F.lit("order_exists_with_other_values"))
    )
    is_exact = (F.col("_event_rank") > 1) | (F.col("_order_rank") > 1) | F.col("_known").isNotNull()
    checked = marked.select(
        *[name for name in events.columns if name != "reasons"],
        F.when(new_reason.isNotNull(), F.array(new_reason)).otherwise(F.col("reasons")).alias("reasons"),
        F.when(new_reason.isNull() & is_exact, F.lit("exact")).alias("duplicate"),
    )
    invalid = events.where(~is_valid).withColumn("duplicate", F.lit(None).cast("string"))
    return checked.unionByName(invalid)


def check_events(events: DataFrame, products: DataFrame, known: DataFrame | None) -> DataFrame:
    """Parsed events (parse_events) with their `disposition` (clean, quarantined,
    dropped_duplicate), `reasons`, and the line kept (`value`) on quarantined events only."""
    events = product_reasons(events, products)
    return assign_disposition(mark_event_duplicates(events, known))


def event_orders(checked: DataFrame) -> DataFrame:
    """The clean orders rows of the clean events."""
    return clean_rows(checked.where(F.col("disposition") == CLEAN), ORDERS)


def event_lines(checked: DataFrame, table: SourceTable) -> DataFrame:
    """The clean rows of `table` (an order-line table) from the clean events of its eval_set."""
    clean = checked.where((F.col("disposition") == CLEAN) & (F.col("eval_set") == table.order_eval_set))
    lines = clean.select("order_id", F.explode(LINES).alias("_line")).select("order_id", "_line.*")
    return clean_rows(lines, table)


def quarantined_events(checked: DataFrame) -> DataFrame:
    return checked.where(F.col("disposition") == QUARANTINED)
