"""Every named query of athena/ on small explicit Delta tables: run locally (DuckDB over the
catalog's Delta snapshots) with the expected rows written out, and run through Spark SQL (the
same Trino SQL transpiled to Spark's dialect by sqlglot, on the same tables) with the same rows."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T
from sqlglot import exp

from instacart_lake.cli import main as lake_main
from instacart_lake.context import Lake
from instacart_lake.delta import DeltaTableIO
from instacart_lake.delta.paths import hadoop_location
from instacart_lake.dq.results import RESULTS_SCHEMA
from instacart_lake.locations import uri_to_path
from instacart_lake.query import QUERIES_DIR, Statement, bind, find_query, named_queries, run_query
from instacart_lake.query.tables import resolve_tables
from instacart_lake.registration import register_delta_table
from instacart_lake.schemas import SOURCE_TABLES
from instacart_lake.transforms.features import USER_FEATURES_1_SCHEMA, USER_FEATURES_2_SCHEMA
from instacart_lake.transforms.gold import NEXT_BASKET_SCHEMA, REORDER_SCORES_SCHEMA
from instacart_lake.transforms.raw_to_clean import quarantine_rows

UTC = dt.timezone.utc
JAN, FEB = dt.datetime(2026, 1, 1, 8, 0, 0), dt.datetime(2026, 2, 1, 8, 0, 0)
QUARANTINED_AT = dt.datetime(2026, 3, 1, 9, 30, 0)
PARAMETERS = {"top_reordered_products_by_department": {"top_n": "2"}, "user_next_basket": {"user_id": "1"}}

CLEAN_ROWS = {
    "departments": [(1, "dairy eggs"), (2, "produce"), (3, "missing")],
    "aisles": [(10, "yogurt"), (20, "fresh fruits"), (30, "missing")],
    "products": [(101, "Greek Yogurt", 10, 1), (102, "Skim Milk", 10, 1), (103, "Cheddar", 10, 1),
                 (201, "Banana", 20, 2), (202, "Apple", 20, 2), (301, "Mystery", 30, 3)],
    "orders": [
        (1001, 1, "prior", 1, 0, 9, None), (1002, 1, "prior", 2, 0, 9, 7), (1003, 1, "test", 3, 1, 10, 7),
        (2001, 2, "prior", 1, 1, 10, None), (2002, 2, "prior", 2, 1, 11, 14), (2003, 2, "train", 3, 2, 8, 30),
        (3001, 3, "prior", 1, 5, 20, None), (3002, 3, "test", 2, 6, 21, 3),
    ],
    "order_products__prior": [
        (1001, 101, 1, 0), (1001, 201, 2, 0),
        (1002, 101, 1, 1), (1002, 201, 2, 1), (1002, 102, 3, 0),
        (2001, 201, 1, 0), (2001, 202, 2, 0), (2001, 301, 3, 0),
        (2002, 201, 1, 1), (2002, 202, 2, 1), (2002, 103, 3, 0),
    ],
}
CURATED_ROWS = {
    "user_features_1": (USER_FEATURES_1_SCHEMA, [(1, 2, 7, 7.0), (2, 2, 14, 14.0), (3, 1, 0, None)]),
    "user_features_2": (USER_FEATURES_2_SCHEMA, [(1, 5, 3, 2 / 3, 2.5), (2, 6, 5, 2 / 3, 3.0), (3, 0, 0, None, 0.0)]),
    "reorder_scores": (REORDER_SCORES_SCHEMA, [
        (1, 101, 0.3, "v1", JAN), (1, 102, 0.7, "v1", JAN), (1, 201, 0.2, "v1", JAN),
        (1, 101, 0.6, "v2", FEB), (1, 102, 0.1, "v2", FEB), (1, 201, 0.8, "v2", FEB),
    ]),
    "next_basket": (NEXT_BASKET_SCHEMA, [
        (1003, 1, [102], False, 0.55, "v1"), (3002, 3, [], True, 1.0, "v1"),
        (1003, 1, [201, 101], True, 0.4, "v2"), (3002, 3, [], True, 1.0, "v2"),
    ]),
}
DQ_RESULT_ROWS = [
    # run_id, table, ruleset, rule name, rule, outcome, action, reason, metric, value: one row per metric
    ("jr_20260101", "orders", "orders.dqdl", "Rule_1", 'IsComplete "order_id"', "Passed", "stop", None,
     "Column.order_id.Completeness", 1.0),
    ("jr_20260101", "orders", "orders.dqdl", "Rule_2", "RowCount > 10", "Failed", "stop", "RowCount is 8",
     "Dataset.*.RowCount", 8.0),
    ("jr_20260102", "orders", "orders.dqdl", "Rule_1", 'IsPrimaryKey "order_id" "user_id"', "Passed", "stop", None,
     "Column.order_id.Completeness", 1.0),
    ("jr_20260102", "orders", "orders.dqdl", "Rule_1", 'IsPrimaryKey "order_id" "user_id"', "Passed", "stop", None,
     "Column.user_id.Completeness", 1.0),
    ("jr_20260102", "orders", "orders.dqdl", "Rule_2", "RowCount > 0", "Passed", "warn", None,
     "Dataset.*.RowCount", 8.0),
    ("jr_20260102", "products", "products.dqdl", "Rule_1", 'CustomSql "select 1 from nowhere"', "Error",
     "quarantine", "no table nowhere", None, None),
]
QUARANTINED_LINES = {
    # source table: (source_file, line_number, raw line, reasons, job run)
    "orders": [("file:///raw/orders/a.csv", 3, "1,2,prior,1,x,9,", ["bad_int:order_dow"], "jr_20260101"),
               ("file:///raw/orders/a.csv", 4, "2,2,prior,2,y,99,",
                ["bad_int:order_dow", "out_of_range:order_hour_of_day"], "jr_20260101")],
    "products": [("file:///raw/products/b.csv", 7, "101,Greek Yogurt,10,1", ["duplicate_key"], "jr_20260102")],
    "aisles": [], "departments": [], "order_products__prior": [], "order_products__train": [],
}
RAW_LINE_SCHEMA = T.StructType([
    T.StructField("source_file", T.StringType()), T.StructField("line_number", T.LongType()),
    T.StructField("value", T.StringType()), T.StructField("reasons", T.ArrayType(T.StringType())),
    T.StructField("run_id", T.StringType()),
])

EXPECTED_ROWS = {
    "top_reordered_products_by_department": [
        ("dairy eggs", 1, 101, "Greek Yogurt", 2, 1, 0.5),
        ("dairy eggs", 2, 102, "Skim Milk", 1, 0, 0.0),
        ("missing", 1, 301, "Mystery", 1, 0, 0.0),
        ("produce", 1, 201, "Banana", 4, 2, 0.5),
        ("produce", 2, 202, "Apple", 2, 1, 0.5),
    ],
    "reorder_rate_by_hour_and_day": [(0, 9, 2, 5, 2, 0.4), (1, 10, 1, 3, 0, 0.0), (1, 11, 1, 3, 2, 2 / 3)],
    "users_by_order_frequency": [("1 weekly", 1, 2.0, 2.5, 2 / 3), ("2 fortnightly", 1, 2.0, 3.0, 2 / 3),
                                 ("5 unknown", 1, 1.0, 0.0, None)],
    "user_next_basket": [
        (1, 1003, "v2", 0.4, 201, "Banana", "fresh fruits", "produce", 0.8),
        (1, 1003, "v2", 0.4, 101, "Greek Yogurt", "yogurt", "dairy eggs", 0.6),
        (1, 1003, "v2", 0.4, None, "None", None, None, None),
    ],
    "model_quality_by_version": [
        ("v2", FEB.replace(tzinfo=UTC), 2, 0.7, 1.0, 1.0, 3, 0.5),
        ("v1", JAN.replace(tzinfo=UTC), 2, 0.775, 0.5, 0.5, 3, 0.4),
    ],
    "dq_results_by_run": [
        ("jr_20260102", "orders", 2, 2, 0, 0, 0, 0, 0, 1.0),
        ("jr_20260102", "products", 1, 0, 0, 1, 0, 0, 1, 0.0),
        ("jr_20260101", "orders", 2, 1, 1, 0, 1, 0, 0, 0.5),
    ],
    "dq_failed_rules": [
        ("jr_20260102", "products", "Rule_1", 'CustomSql "select 1 from nowhere"', "Error", "quarantine",
         "no table nowhere"),
        ("jr_20260101", "orders", "Rule_2", "RowCount > 10", "Failed", "stop", "RowCount is 8"),
    ],
    "quarantine_reasons_by_run": [
        ("jr_20260102", "products", "duplicate_key", 1, 1, QUARANTINED_AT.replace(tzinfo=UTC)),
        ("jr_20260101", "orders", "bad_int:order_dow", 2, 1, QUARANTINED_AT.replace(tzinfo=UTC)),
        ("jr_20260101", "orders", "out_of_range:order_hour_of_day", 1, 1, QUARANTINED_AT.replace(tzinfo=UTC)),
    ],
}


def _write(spark, lake: Lake, zone: str, name: str, frame, grain: str, partition_keys: tuple[str, ...] = ()):
    DeltaTableIO(spark).write(frame, lake.locations.table_uri(zone, name), mode="overwrite", run_id="jr_test",
                              job_name="test_query", partition_by=list(partition_keys) or None)
    register_delta_table(lake, zone, name, frame.schema, grain, partition_keys=partition_keys)


@pytest.fixture(scope="module")
def query_lake(spark, tmp_path_factory) -> Lake:
    """The tables the queries read, written with the project's Delta writer and registered as
    the jobs register them (clean, curated and the gold tables partitioned by model version)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("LAKE_PROFILE", "LAKE_ROOT", "LAKE_META_URI", "LAKE_REGION"):
            patch.delenv(name, raising=False)
        lake = Lake.from_environment(root=tmp_path_factory.mktemp("query") / "lake", profile="local")
    for name, rows in CLEAN_ROWS.items():
        table = SOURCE_TABLES[name]
        _write(spark, lake, "clean", name, spark.createDataFrame(rows, table.spark_schema()), table.grain)
    _write(spark, lake, "clean", "dq_results", spark.createDataFrame(DQ_RESULT_ROWS, RESULTS_SCHEMA),
           "one row per data-quality rule, metric, table and run")
    for name, lines in QUARANTINED_LINES.items():
        quarantined = (quarantine_rows(spark.createDataFrame(lines, RAW_LINE_SCHEMA))
                       .withColumn("run_id", F.lit(lines[0][4] if lines else "jr_none"))
                       .withColumn("quarantined_at", F.lit(QUARANTINED_AT).cast("timestamp")))
        _write(spark, lake, "clean", f"{name}_quarantine", quarantined, f"one row per rejected raw line of {name}")
    for name, (schema, rows) in CURATED_ROWS.items():
        keys = ("model_version",) if name in ("reorder_scores", "next_basket") else ()
        _write(spark, lake, "curated", name, spark.createDataFrame(rows, schema), name, keys)
    return lake


def spark_sql(statement: Statement, tables: dict) -> str:
    """The statement in Spark's dialect, each catalog table read by its Delta location."""
    expression = statement.expression.copy()
    locations = {str(name): table["StorageDescriptor"]["Location"] for name, table in tables.items()}
    for table in expression.find_all(exp.Table):
        if table.db:
            location = locations[f"{table.db}.{table.name}".lower()]
            table.set("this", exp.to_identifier(hadoop_location(location), quoted=True))
            table.set("db", exp.to_identifier("delta"))
    return expression.sql(dialect="spark")


def normalized(row: tuple) -> tuple:
    """Spark gives timestamps as naive UTC datetimes (the session time zone is UTC), DuckDB as
    aware ones."""
    return tuple(value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, dt.datetime) and value.tzinfo
                 else value for value in row)


def approximately(rows: list[tuple]) -> list[tuple]:
    """The rows with every double compared to 1e-9 (engines sum in different orders)."""
    return [tuple(pytest.approx(value, rel=1e-9, abs=1e-12) if isinstance(value, float) else value
                  for value in normalized(row)) for row in rows]


def lake_root(lake: Lake) -> str:
    return str(Path(uri_to_path(lake.locations.zone_uri("clean"))).parent)


def query_names() -> list[str]:
    return [query.name for query in named_queries()]


def test_every_named_query_has_a_title_and_expected_rows_here():
    queries = named_queries()
    assert len(queries) >= 6
    assert all(query.title for query in queries)
    assert sorted(EXPECTED_ROWS) == sorted(query.name for query in queries)


@pytest.mark.parametrize("name", query_names())
def test_named_query_gives_the_expected_rows_locally(query_lake, name):
    result = run_query(query_lake, find_query(name), PARAMETERS.get(name, {}))

    assert result.engine == "duckdb"
    assert [normalized(row) for row in result.rows] == approximately(EXPECTED_ROWS[name])


@pytest.mark.parametrize("name", query_names())
def test_named_query_gives_the_same_rows_on_spark_sql(spark, query_lake, name):
    query = find_query(name)
    statement = bind(query, PARAMETERS.get(name, {}))
    by_duckdb = run_query(query_lake, query, PARAMETERS.get(name, {}))

    by_spark = spark.sql(spark_sql(statement, resolve_tables(query_lake.catalog, statement))).collect()

    assert list(by_spark[0].asDict()) == list(by_duckdb.column_names)
    assert by_spark
    assert [normalized(tuple(row)) for row in by_spark] == approximately(by_duckdb.rows)


def test_column_types_are_named_as_athena_names_them(query_lake):
    result = run_query(query_lake, find_query("top_reordered_products_by_department"), {})

    assert [(column.name, column.type) for column in result.columns] == [
        ("department", "varchar"), ("reorder_rank", "bigint"), ("product_id", "integer"),
        ("product_name", "varchar"), ("order_lines", "bigint"), ("reorders", "bigint"), ("reorder_rate", "double")]
    assert len(result.rows) == 6  # the default top_n (10) keeps every product of the three departments


def test_lake_query_prints_json_and_csv(query_lake, capsys):
    root = lake_root(query_lake)

    assert lake_main(["--lake-root", root, "query", "user_next_basket", "--param", "user_id=1",
                      "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["columns"][4] == {"name": "product_id", "type": "integer"}
    assert [(row["product_name"], row["probability"]) for row in document["rows"]] == [
        ("Banana", 0.8), ("Greek Yogurt", 0.6), ("None", None)]

    assert lake_main(["--lake-root", root, "query", str(QUERIES_DIR / "reorder_rate_by_hour_and_day.sql"),
                      "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "order_dow,order_hour_of_day,orders,order_lines,reorders,reorder_rate"
    assert lines[1:3] == ["0,9,2,5,2,0.4", "1,10,1,3,0,0.0"]
    assert math.isclose(float(lines[3].split(",")[-1]), 2 / 3)


def test_lake_query_runs_inline_sql_with_a_declared_parameter(query_lake, capsys):
    root = lake_root(query_lake)
    sql = ("-- orders of a user\n-- :user_id integer  the user\n"
           "SELECT order_id FROM instacart_clean.orders WHERE user_id = :user_id ORDER BY order_id")

    assert lake_main(["--lake-root", root, "query", "--sql", sql, "--param", "user_id=2", "--format", "csv"]) == 0

    assert capsys.readouterr().out.splitlines() == ["order_id", "2001", "2002", "2003"]
