"""Per-file statistics in the Delta log, read from the Parquet footers."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable
from pyspark.sql import types as T

from instacart_lake.delta import EmbeddedDeltaTableIO
from instacart_lake.delta.file_stats import MAX_CODE_POINT, delta_stats_json, truncated_string_max
from instacart_lake.locations import uri_to_path

UTC = dt.timezone.utc
LONG_NAME = "x" * 40 + "yz"
SCHEMA = T.StructType(
    [
        T.StructField("order_id", T.LongType()),
        T.StructField("product_name", T.StringType()),
        T.StructField("order_date", T.DateType()),
        T.StructField("ordered_at", T.TimestampType()),
        T.StructField("ratio", T.DoubleType()),
        T.StructField("price", T.DecimalType(9, 2)),
        T.StructField("is_reordered", T.BooleanType()),
        T.StructField("aisle", T.StringType()),
    ]
)
ROWS = [
    (1, "apple", dt.date(2024, 1, 5), dt.datetime(2024, 1, 1, 10, 0, 0, 123456, UTC), 0.5, Decimal("10.25"), True, "a"),
    (7, LONG_NAME, dt.date(2023, 12, 31), dt.datetime(2024, 3, 1, 0, 0, 0, 1, UTC), float("nan"), Decimal("-3.10"),
     None, "a"),
    (None, None, None, None, None, None, False, "b"),
]


def log_stats(table_path: str) -> list[dict]:
    """The stats of each add action of version 0, parsed with exact decimals."""
    log = Path(table_path, "_delta_log", "00000000000000000000.json").read_text().splitlines()
    adds = [json.loads(line)["add"] for line in log if '"add"' in line]
    return [json.loads(add["stats"], parse_float=Decimal) for add in sorted(adds, key=lambda a: a["path"])]


def test_the_log_holds_exact_statistics_of_a_known_file(spark, lake):
    uri = lake.locations.table_uri("clean", "order_lines")
    df = spark.createDataFrame(ROWS, SCHEMA).coalesce(1)

    EmbeddedDeltaTableIO(spark).write(df, uri, mode="overwrite", run_id="r1", job_name="j", partition_by=["aisle"])

    aisle_a, aisle_b = log_stats(uri_to_path(uri))
    assert aisle_a == {
        "numRecords": 2,
        "minValues": {"order_id": 1, "product_name": "apple", "order_date": "2023-12-31",
                      "ordered_at": "2024-01-01T10:00:00.123Z", "ratio": Decimal("0.5"), "price": Decimal("-3.10")},
        "maxValues": {"order_id": 7, "product_name": "x" * 32 + MAX_CODE_POINT, "order_date": "2024-01-05",
                      "ordered_at": "2024-03-01T00:00:00.001Z", "price": Decimal("10.25")},
        "nullCount": {"order_id": 0, "product_name": 0, "order_date": 0, "ordered_at": 0, "ratio": 0, "price": 0,
                      "is_reordered": 1},
    }
    assert aisle_b == {
        "numRecords": 1,
        "minValues": {},
        "maxValues": {},
        "nullCount": {"order_id": 1, "product_name": 1, "order_date": 1, "ordered_at": 1, "ratio": 1, "price": 1,
                      "is_reordered": 0},
    }


def test_delta_rs_reads_the_statistics_with_their_types(spark, lake):
    uri = lake.locations.table_uri("clean", "order_lines")
    df = spark.createDataFrame(ROWS, SCHEMA).coalesce(1)
    EmbeddedDeltaTableIO(spark).write(df, uri, mode="overwrite", run_id="r1", job_name="j", partition_by=["aisle"])

    actions = pa.table(DeltaTable(uri_to_path(uri)).get_add_actions(flatten=True)).to_pylist()

    aisle_a = next(action for action in actions if action["partition.aisle"] == "a")
    assert (aisle_a["num_records"], aisle_a["min.order_id"], aisle_a["max.order_id"]) == (2, 1, 7)
    assert (aisle_a["min.price"], aisle_a["max.price"]) == (Decimal("-3.10"), Decimal("10.25"))
    assert aisle_a["max.ordered_at"] == dt.datetime(2024, 3, 1, 0, 0, 0, 1000, UTC)
    assert aisle_a["max.product_name"] == "x" * 32 + MAX_CODE_POINT


def test_statistics_combine_row_groups_and_skip_all_null_groups(tmp_path):
    path = tmp_path / "part.parquet"
    table = pa.table({"user_id": pa.array([5, 3, None, None, 9, 4], pa.int64()),
                      "city": pa.array(["b", "a", None, None, "c", None])})
    pq.write_table(table, path, row_group_size=2)
    schema = T.StructType([T.StructField("user_id", T.LongType()), T.StructField("city", T.StringType())])

    stats = json.loads(delta_stats_json(pq.read_metadata(path), schema))

    assert stats == {
        "numRecords": 6,
        "minValues": {"user_id": 3, "city": "a"},
        "maxValues": {"user_id": 9, "city": "c"},
        "nullCount": {"user_id": 2, "city": 3},
    }


def test_a_truncated_string_max_is_still_an_upper_bound():
    assert truncated_string_max("short") == "short"
    assert truncated_string_max("a" * 32) == "a" * 32
    assert truncated_string_max("a" * 33) == "a" * 32 + MAX_CODE_POINT
    assert truncated_string_max("a" * 32 + MAX_CODE_POINT + "b") == "a" * 32 + MAX_CODE_POINT * 2
    assert truncated_string_max("a" * 32 + MAX_CODE_POINT * 2) == "a" * 32 + MAX_CODE_POINT * 2
    for value in ["é" * 40, "a" * 32 + MAX_CODE_POINT + "b", "z" * 33]:
        assert truncated_string_max(value).encode() >= value.encode()
