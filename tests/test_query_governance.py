"""`lake query --as PERSONA`: every persona of lakeformation/policy.toml against every table
of the lake, through the query engine's code path, allowed (with exactly the columns and rows
the policy gives) or refused as the policy says. The tables are small, one row each, except
orders, whose rows the data scientists' row filter cuts."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from pyspark.sql import types as T
from pyspark.sql.pandas.types import to_arrow_schema

from instacart_lake.catalog.names import TableName
from instacart_lake.cli import main as lake_main
from instacart_lake.context import Lake
from instacart_lake.governance import AccessDenied
from instacart_lake.governance.tables import lake_table_schemas
from instacart_lake.locations import uri_to_path
from instacart_lake.query import parse_query, run_query
from instacart_lake.registration import register_delta_table

ORDERS = TableName("instacart_clean", "orders")
ORDER_ROWS = [  # order_id, user_id, eval_set, order_number, order_dow, order_hour_of_day, days_since_prior_order
    (1001, 1, "prior", 1, 0, 9, None), (1002, 1, "prior", 2, 3, 10, 7), (1003, 1, "test", 3, 1, 11, 7),
    (2001, 2, "prior", 1, 5, 20, None), (2002, 2, "train", 2, 6, 8, 30),
]
VALUES = {T.IntegerType: 7, T.LongType: 7, T.DoubleType: 0.5, T.StringType: "x", T.BooleanType: True,
          T.BinaryType: b"x", T.TimestampType: dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)}
PERSONAS = ["data_engineer", "analyst", "data_scientist", "prediction_api", "raw_crawler", "raw_to_clean",
            "clean_to_curated", "curated_to_ml", "gold_predictions", "export_serving"]

# Who reads each table in full, as the policy intends it (written out, not computed).
RAW_READERS = {"data_engineer", "raw_to_clean"}
CLEAN_JOBS = {"raw_to_clean", "clean_to_curated", "curated_to_ml", "gold_predictions"}
CLEAN_SHARED = {"data_engineer", "analyst", *CLEAN_JOBS}
REFERENCE = {*CLEAN_SHARED, "data_scientist", "prediction_api", "export_serving"}
CLEAN_PERSONAL = {"data_engineer", *CLEAN_JOBS}
CURATED = {"data_engineer", "data_scientist", "clean_to_curated", "curated_to_ml", "gold_predictions"}
FULL_READERS = {
    **{f"instacart_raw.{name}": RAW_READERS for name in ("aisles", "departments", "products", "orders",
                                                         "order_products__prior", "order_products__train")},
    **{f"instacart_clean.{name}": REFERENCE for name in ("aisles", "departments", "products")},
    "instacart_clean.orders": CLEAN_PERSONAL,
    **{f"instacart_clean.{name}": CLEAN_SHARED for name in ("order_products__prior", "order_products__train",
                                                            "dq_results")},
    **{f"instacart_clean.{name}_quarantine": CLEAN_PERSONAL
       for name in ("aisles", "departments", "products", "orders", "order_products__prior", "order_products__train",
                    "order_events")},
    **{f"instacart_curated.{name}": CURATED for name in ("user_features_1", "user_features_2", "up_features")},
    "instacart_curated.prd_features": {*CURATED, "analyst"},
    **{f"instacart_curated.{name}": {*CURATED, "prediction_api", "export_serving"}
       for name in ("reorder_scores", "next_basket")},
    "instacart_ml.ml_candidates": {"data_engineer", "data_scientist", "curated_to_ml", "gold_predictions"},
}
ORDER_COLUMNS = ("order_id", "user_id", "eval_set", "order_number", "order_dow", "order_hour_of_day",
                 "days_since_prior_order")
FILTERED = {  # (persona, table): the columns and rows it reads
    ("analyst", "instacart_clean.orders"): (
        tuple(column for column in ORDER_COLUMNS if column != "user_id"),
        [(order_id, *rest) for order_id, _user, *rest in ORDER_ROWS]),
    ("data_scientist", "instacart_clean.orders"): (
        ORDER_COLUMNS, [row for row in ORDER_ROWS if row[2] == "prior"]),
}


def _row(schema: T.StructType) -> dict:
    def value(data_type: T.DataType):
        if isinstance(data_type, T.ArrayType):
            return [value(data_type.elementType)]
        return VALUES[type(data_type)]
    return {field.name: value(field.dataType) for field in schema.fields}


@pytest.fixture(scope="module")
def governed_lake(tmp_path_factory) -> Lake:
    """Every table of the lake, registered as the jobs register them; raw tables are CSV on a
    real lake (which the local engine does not read), Delta here so that every table takes
    the same path."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("LAKE_PROFILE", "LAKE_ROOT", "LAKE_META_URI", "LAKE_REGION"):
            patch.delenv(name, raising=False)
        lake = Lake.from_environment(root=tmp_path_factory.mktemp("governed") / "lake", profile="local")
    zones = {lake.locations.database(zone): zone for zone in ("raw", "clean", "curated", "ml")}
    for table, schema in lake_table_schemas(lake.locations).items():
        arrow_schema = to_arrow_schema(schema)
        rows = ([dict(zip(ORDER_COLUMNS, row)) for row in ORDER_ROWS] if table == ORDERS else [_row(schema)])
        zone = zones[table.database]
        write_deltalake(uri_to_path(lake.locations.table_uri(zone, table.table)),
                        pa.Table.from_pylist(rows, schema=arrow_schema))
        register_delta_table(lake, zone, table.table, schema, f"test table {table}")
    return lake


def select_all(lake: Lake, table: str, persona: str):
    return run_query(lake, parse_query("sql", "--sql", f"SELECT * FROM {table}"), {}, persona=persona)


def test_every_table_of_the_lake_has_an_expected_access():
    assert sorted(str(table) for table in lake_table_schemas(Lake.from_environment(profile="local").locations)) == \
        sorted(FULL_READERS)


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_persona_reads_exactly_the_tables_columns_and_rows_the_policy_gives(governed_lake, persona):
    schemas = {str(table): schema for table, schema in lake_table_schemas(governed_lake.locations).items()}
    for table, readers in FULL_READERS.items():
        columns = tuple(schemas[table].fieldNames())
        if (persona, table) in FILTERED:
            expected_columns, expected_rows = FILTERED[(persona, table)]
            result = select_all(governed_lake, table, persona)
            assert (result.column_names, sorted(result.rows)) == (expected_columns, sorted(expected_rows)), table
        elif persona in readers:
            result = select_all(governed_lake, table, persona)
            expected_rows = ORDER_ROWS if table == str(ORDERS) else [tuple(_row(schemas[table]).values())]
            assert result.column_names == columns, table
            assert len(result.rows) == len(expected_rows), table
        else:
            with pytest.raises(AccessDenied) as refused:
                select_all(governed_lake, table, persona)
            message = str(refused.value)
            assert message.startswith(f"{persona} may not read {table} (") and "lakeformation/policy.toml:" in message
            assert "\n" not in message


def test_a_query_naming_a_filtered_column_is_refused_with_the_rule(governed_lake):
    for sql in ("SELECT user_id FROM instacart_clean.orders",
                "SELECT o.order_id, o.user_id FROM instacart_clean.orders AS o",
                "SELECT count(*) FROM instacart_clean.orders WHERE user_id = 1"):
        refusal = (r"^analyst may not read column user_id of instacart_clean\.orders "
                   r"\(zone=clean, sensitivity=personal\): grant analysts_read_shared_tables "
                   r"\(lakeformation/policy\.toml:\d+\) needs sensitivity in public, internal$")
        with pytest.raises(AccessDenied, match=refusal):
            run_query(governed_lake, parse_query("sql", "--sql", sql), {}, persona="analyst")


def test_aggregates_over_allowed_columns_see_only_the_filtered_rows(governed_lake):
    sql = "SELECT eval_set, count(*) AS orders FROM instacart_clean.orders GROUP BY eval_set ORDER BY eval_set"
    query = parse_query("sql", "--sql", sql)
    assert run_query(governed_lake, query, {}, persona="data_scientist").rows == [("prior", 3)]
    assert run_query(governed_lake, query, {}, persona="analyst").rows == [("prior", 3), ("test", 1), ("train", 1)]
    assert run_query(governed_lake, query, {}).rows == [("prior", 3), ("test", 1), ("train", 1)]


def test_lake_query_as_a_persona_refuses_in_one_line(governed_lake, capsys):
    root = str(uri_to_path(governed_lake.locations.zone_uri("clean"))).rsplit("/", 1)[0]

    assert lake_main(["--lake-root", root, "query", "--sql", "SELECT * FROM instacart_curated.up_features",
                      "--as", "analyst"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("lake query: error: analyst may not read instacart_curated.up_features "
                            "(zone=curated, sensitivity=personal, domain=features): grant analysts_read_shared_tables")

    assert lake_main(["--lake-root", root, "query", "--sql", "SELECT * FROM instacart_clean.orders ORDER BY order_id",
                      "--as", "analyst", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "order_id,eval_set,order_number,order_dow,order_hour_of_day,days_since_prior_order"
    assert lines[1:3] == ["1001,prior,1,0,9,", "1002,prior,2,3,10,7"]

    assert lake_main(["--lake-root", root, "query", "--sql", "SELECT 1", "--as", "nobody"]) == 1
    assert "no persona nobody (personas: data_engineer, analyst" in capsys.readouterr().err
