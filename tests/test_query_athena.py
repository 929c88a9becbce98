"""`lake query` with the aws profile: the tables checked in the Glue Data Catalog, the query
sent to Athena in the lake's workgroup as Trino SQL with its parameters bound, polled until it
succeeds, and its results read with each value typed (moto's Athena, whose results are
registered through its API, as its documentation describes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import boto3
import pytest
import requests
from moto import mock_aws
from moto.moto_api import state_manager

from instacart_lake.catalog import delta_table_input
from instacart_lake.cli import main as lake_main
from instacart_lake.context import Lake
from instacart_lake.query import AthenaEngine, QueryError, UnknownTableError, bind, find_query, run_query
from instacart_lake.query.engine import athena_engine

REGION = "us-east-1"
WORKGROUP = "test-instacart-lake"
MOTO_ATHENA_RESULTS = "http://motoapi.amazonaws.com/moto-api/static/athena/query-results"
TABLES = {
    "instacart_clean": ("orders", "products", "aisles", "departments"),
    "instacart_curated": ("next_basket", "reorder_scores"),
}
ID_COLUMNS = [("order_id", "int"), ("user_id", "int")]


def column_info(name: str, athena_type: str) -> dict:
    return {"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": name, "Label": name,
            "Type": athena_type, "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": False}


def register_results(columns: list[tuple[str, str]], rows: list[list[str | None]]) -> None:
    """The next query's results: Athena's header row (the labels), then the rows as text."""
    header = {"Data": [{"VarCharValue": name} for name, _ in columns]}
    data = [{"Data": [{} if value is None else {"VarCharValue": value} for value in row]} for row in rows]
    response = requests.post(MOTO_ATHENA_RESULTS, json={
        "region": REGION, "results": [{"rows": [header, *data],
                                       "column_info": [column_info(*column) for column in columns]}]})
    assert response.status_code == 201


@pytest.fixture
def aws_lake(monkeypatch):
    """The aws profile against moto: Glue holds the lake's tables, Athena has the workgroup."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("LAKE_PROFILE", "LAKE_ROOT", "LAKE_ENDPOINT_URL", "LAKE_META_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LAKE_REGION", REGION)
    monkeypatch.setenv("LAKE_ATHENA_WORKGROUP", WORKGROUP)
    with mock_aws():
        lake = Lake.from_environment(profile="aws")
        for database, names in TABLES.items():
            lake.catalog.ensure_database(database, "", f"s3://bucket/{database}")
            for name in names:
                lake.catalog.create_table(database, delta_table_input(name, f"s3://bucket/{name}", ID_COLUMNS))
        boto3.client("athena", region_name=REGION).create_work_group(
            Name=WORKGROUP, Configuration={"ResultConfiguration": {"OutputLocation": "s3://results/athena/"}})
        yield lake
    state_manager.unset_transition("athena::execution")


def fast_engine(lake: Lake) -> AthenaEngine:
    engine = athena_engine(lake)
    engine.first_poll_seconds = 0.01
    return engine


def test_a_named_query_runs_on_athena_in_the_workgroup_with_its_parameters_bound(aws_lake):
    state_manager.set_transition("athena::execution", {"progression": "manual", "times": 2})
    register_results(
        [("user_id", "integer"), ("order_id", "integer"), ("model_version", "varchar"), ("expected_f1", "double"),
         ("product_id", "integer"), ("product_name", "varchar"), ("probability", "double")],
        [["1", "1003", "v2", "0.4", "201", "Banana", "0.8"],
         ["1", "1003", "v2", "0.4", None, "None", None]])
    query = find_query("user_next_basket")
    engine = fast_engine(aws_lake)
    states = []
    engine.client.meta.events.register(
        "after-call.athena.GetQueryExecution",
        lambda parsed, **_: states.append(parsed["QueryExecution"]["Status"]["State"]))

    result = run_query(aws_lake, query, {"user_id": "1"}, athena=engine)

    assert states == ["QUEUED", "RUNNING", "RUNNING", "SUCCEEDED"]

    assert result.engine == "athena"
    assert result.column_names == ("user_id", "order_id", "model_version", "expected_f1", "product_id",
                                   "product_name", "probability")
    assert result.rows == [(1, 1003, "v2", 0.4, 201, "Banana", 0.8), (1, 1003, "v2", 0.4, None, "None", None)]
    athena = boto3.client("athena", region_name=REGION)
    [execution_id] = athena.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    execution = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert execution["Query"] == bind(query, {"user_id": "1"}).sql("trino")
    assert "nb.user_id = 1" in execution["Query"]


def test_athena_values_are_typed_by_their_column_types(aws_lake):
    register_results(
        [("n", "bigint"), ("ratio", "double"), ("price", "decimal"), ("flag", "boolean"), ("day", "date"),
         ("at", "timestamp"), ("at_utc", "timestamp with time zone"), ("products", "array")],
        [["7", "0.25", "1.50", "true", "2026-12-01", "2026-12-01 12:06:38.000", "2026-12-01 12:06:38.500 UTC",
          "[201, 101]"]])
    query = find_query("model_quality_by_version")

    [row] = run_query(aws_lake, query, {}, athena=fast_engine(aws_lake)).rows

    assert row == (7, 0.25, Decimal("1.50"), True, dt.date(2026, 12, 1), dt.datetime(2026, 12, 1, 12, 6, 38),
                   dt.datetime(2026, 12, 1, 12, 6, 38, 500000, tzinfo=dt.timezone.utc), "[201, 101]")


def test_an_unknown_table_is_reported_from_the_glue_catalog_before_athena_runs(aws_lake):
    with pytest.raises(UnknownTableError, match=r"no table instacart_clean\.dq_results in the catalog \(tables: "
                                                r"instacart_clean\.aisles, .*instacart_curated\.reorder_scores\)"):
        run_query(aws_lake, find_query("dq_results_by_run"), {}, athena=fast_engine(aws_lake))

    assert boto3.client("athena", region_name=REGION).list_query_executions()["QueryExecutionIds"] == []


def test_a_workgroup_athena_does_not_have_is_one_line(aws_lake, monkeypatch):
    monkeypatch.setenv("LAKE_ATHENA_WORKGROUP", "no-such-workgroup")
    lake = Lake.from_environment(profile="aws")

    with pytest.raises(QueryError, match=r"model_quality_by_version\.sql: Athena \(workgroup no-such-workgroup\): "
                                         r".*WorkGroup does not exist"):
        run_query(lake, find_query("model_quality_by_version"), {})


def test_lake_query_prints_athena_results_as_csv(aws_lake, capsys):
    register_results([("order_dow", "integer"), ("reorder_rate", "double")], [["0", "0.4"], ["1", "0.5"]])

    assert lake_main(["--profile", "aws", "query", "--sql",
                      "SELECT order_dow, 0.4 AS reorder_rate FROM instacart_clean.orders", "--format", "csv"]) == 0

    assert capsys.readouterr().out.splitlines() == ["order_dow,reorder_rate", "0,0.4", "1,0.5"]
