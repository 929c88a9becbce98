"""One contract for both catalogs: the embedded file catalog and AWS Glue (through moto)."""

from __future__ import annotations

import json
import multiprocessing

import pytest
from moto import mock_aws
from pyspark.sql import types as T

from instacart_lake.catalog import (
    AlreadyExistsError,
    CatalogError,
    EmbeddedCatalog,
    EntityNotFoundError,
    GlueCatalog,
    delta_table_input,
    open_catalog,
)
from instacart_lake.config import load_config
from instacart_lake.locations import Locations


@pytest.fixture(params=["embedded", "glue"])
def catalog(request, tmp_path, monkeypatch):
    if request.param == "embedded":
        yield EmbeddedCatalog((tmp_path / "_meta" / "catalog.json").as_uri())
        return
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield GlueCatalog(region_name="us-east-1")


def csv_table_input(name: str, columns: list[tuple[str, str]], location: str) -> dict:
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "csv", "delimiter": ","},
        "PartitionKeys": [{"Name": "ingest_date", "Type": "string"}],
        "StorageDescriptor": {
            "Columns": [{"Name": column, "Type": hive_type} for column, hive_type in columns],
            "Location": location,
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                          "Parameters": {"field.delim": ","}},
        },
    }


def partition_input(date: str, location: str) -> dict:
    return {
        "Values": [date],
        "StorageDescriptor": {
            "Columns": [{"Name": "aisle_id", "Type": "bigint"}, {"Name": "aisle", "Type": "string"}],
            "Location": location,
        },
        "Parameters": {},
    }


def columns_of(table: dict) -> list[tuple[str, str]]:
    return [(column["Name"], column["Type"]) for column in table["StorageDescriptor"]["Columns"]]


AISLES = [("aisle_id", "bigint"), ("aisle", "string")]


def test_ensure_database_creates_once_and_lists_sorted(catalog):
    created = catalog.ensure_database("instacart_raw", "raw files", "s3://raw-bucket/")
    again = catalog.ensure_database("instacart_raw", "another description")
    catalog.ensure_database("instacart_clean")

    assert (created["Name"], created["Description"], created["LocationUri"]) == (
        "instacart_raw", "raw files", "s3://raw-bucket/")
    assert again["Description"] == "raw files"
    assert [database["Name"] for database in catalog.get_databases()] == ["instacart_clean", "instacart_raw"]


def test_create_and_get_table(catalog):
    catalog.ensure_database("raw")
    catalog.create_table("raw", csv_table_input("aisles", AISLES, "s3://raw-bucket/aisles/"))

    table = catalog.get_table("raw", "aisles")

    assert table["Name"] == "aisles"
    assert table["DatabaseName"] == "raw"
    assert table["VersionId"] == "1"
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["Parameters"] == {"classification": "csv", "delimiter": ","}
    assert table["PartitionKeys"] == [{"Name": "ingest_date", "Type": "string"}]
    assert columns_of(table) == AISLES
    assert table["StorageDescriptor"]["Location"] == "s3://raw-bucket/aisles/"
    assert table["StorageDescriptor"]["SerdeInfo"]["Parameters"] == {"field.delim": ","}
    assert isinstance(table["CreateTime"], str)


def test_get_table_is_none_for_a_missing_table_and_an_error_for_a_missing_database(catalog):
    catalog.ensure_database("raw")

    assert catalog.get_table("raw", "nothing") is None
    with pytest.raises(EntityNotFoundError):
        catalog.get_table("no_such_database", "aisles")


def test_create_errors(catalog):
    catalog.ensure_database("raw")
    catalog.create_table("raw", csv_table_input("aisles", AISLES, "s3://raw-bucket/aisles/"))

    with pytest.raises(AlreadyExistsError):
        catalog.create_table("raw", csv_table_input("aisles", AISLES, "s3://raw-bucket/aisles/"))
    with pytest.raises(EntityNotFoundError):
        catalog.create_table("no_such_database", csv_table_input("aisles", AISLES, "s3://x/"))
    with pytest.raises(EntityNotFoundError):
        catalog.update_table("raw", csv_table_input("missing", AISLES, "s3://x/"))
    with pytest.raises(EntityNotFoundError):
        catalog.get_table_versions("raw", "missing")
    with pytest.raises(EntityNotFoundError):
        catalog.get_tables("no_such_database")


def test_errors_are_lake_errors(catalog):
    with pytest.raises(CatalogError):
        catalog.get_tables("no_such_database")


def test_update_keeps_every_previous_version(catalog):
    catalog.ensure_database("raw")
    catalog.create_table("raw", csv_table_input("aisles", AISLES, "s3://raw-bucket/aisles/"))
    catalog.update_table("raw", csv_table_input("aisles", AISLES + [("is_organic", "boolean")],
                                                "s3://raw-bucket/aisles/"))
    catalog.update_table("raw", csv_table_input("aisles", [("aisle_id", "double"), ("aisle", "string")],
                                                "s3://raw-bucket/aisles/"))

    current = catalog.get_table("raw", "aisles")
    versions = catalog.get_table_versions("raw", "aisles")

    assert current["VersionId"] == "3"
    assert columns_of(current) == [("aisle_id", "double"), ("aisle", "string")]
    assert [version["VersionId"] for version in versions] == ["1", "2", "3"]
    assert [columns_of(version["Table"]) for version in versions] == [
        AISLES,
        AISLES + [("is_organic", "boolean")],
        [("aisle_id", "double"), ("aisle", "string")],
    ]


def test_get_tables_lists_current_versions_sorted(catalog):
    catalog.ensure_database("raw")
    catalog.create_table("raw", csv_table_input("orders", [("order_id", "bigint")], "s3://raw/orders/"))
    catalog.create_table("raw", csv_table_input("aisles", AISLES, "s3://raw/aisles/"))
    catalog.update_table("raw", csv_table_input("orders", [("order_id", "double")], "s3://raw/orders/"))

    tables = catalog.get_tables("raw")

    assert [table["Name"] for table in tables] == ["aisles", "orders"]
    assert columns_of(tables[1]) == [("order_id", "double")]


def test_delete_table(catalog):
    catalog.ensure_database("raw")
    catalog.create_table("raw", csv_table_input("aisles", AISLES, "s3://raw/aisles/"))

    catalog.delete_table("raw", "aisles")

    assert catalog.get_table("raw", "aisles") is None
    assert catalog.get_tables("raw") == []
    with pytest.raises(EntityNotFoundError):
        catalog.delete_table("raw", "aisles")


def test_partitions(catalog):
    catalog.ensure_database("raw")
    catalog.create_table("raw", csv_table_input("aisles", AISLES, "s3://raw/aisles/"))

    errors = catalog.batch_create_partition("raw", "aisles", [
        partition_input("2024-02-01", "s3://raw/aisles/ingest_date=2024-02-01/"),
        partition_input("2024-01-01", "s3://raw/aisles/ingest_date=2024-01-01/"),
    ])
    partitions = catalog.get_partitions("raw", "aisles")

    assert errors == []
    assert [partition["Values"] for partition in partitions] == [["2024-01-01"], ["2024-02-01"]]
    assert [partition["StorageDescriptor"]["Location"] for partition in partitions] == [
        "s3://raw/aisles/ingest_date=2024-01-01/", "s3://raw/aisles/ingest_date=2024-02-01/"]
    assert {(partition["DatabaseName"], partition["TableName"]) for partition in partitions} == {("raw", "aisles")}
    assert columns_of(partitions[0]) == AISLES


def test_creating_an_existing_partition_is_reported_per_partition(catalog):
    catalog.ensure_database("raw")
    catalog.create_table("raw", csv_table_input("aisles", AISLES, "s3://raw/aisles/"))
    catalog.batch_create_partition("raw", "aisles", [partition_input("2024-01-01", "s3://raw/a/")])

    errors = catalog.batch_create_partition("raw", "aisles", [
        partition_input("2024-01-01", "s3://raw/b/"), partition_input("2024-01-02", "s3://raw/c/")])

    assert [(error["PartitionValues"], error["ErrorDetail"]["ErrorCode"]) for error in errors] == [
        (["2024-01-01"], "AlreadyExistsException")]
    assert [p["StorageDescriptor"]["Location"] for p in catalog.get_partitions("raw", "aisles")] == [
        "s3://raw/a/", "s3://raw/c/"]


def test_update_partition(catalog):
    catalog.ensure_database("raw")
    catalog.create_table("raw", csv_table_input("aisles", AISLES, "s3://raw/aisles/"))
    catalog.batch_create_partition("raw", "aisles", [partition_input("2024-01-01", "s3://raw/old/")])

    catalog.update_partition("raw", "aisles", ["2024-01-01"], partition_input("2024-01-01", "s3://raw/new/"))

    [partition] = catalog.get_partitions("raw", "aisles")
    assert partition["StorageDescriptor"]["Location"] == "s3://raw/new/"
    with pytest.raises(EntityNotFoundError):
        catalog.update_partition("raw", "aisles", ["1999-01-01"], partition_input("1999-01-01", "s3://raw/x/"))


def test_partition_errors_for_a_missing_table(catalog):
    catalog.ensure_database("raw")

    with pytest.raises(EntityNotFoundError):
        catalog.batch_create_partition("raw", "missing", [partition_input("2024-01-01", "s3://raw/a/")])
    with pytest.raises(EntityNotFoundError):
        catalog.get_partitions("raw", "missing")


def test_a_delta_table_round_trips(catalog):
    schema = T.StructType([
        T.StructField("user_id", T.IntegerType(), False),
        T.StructField("reorder_probability", T.DoubleType(), True),
        T.StructField("model_version", T.StringType(), True),
    ])
    catalog.ensure_database("instacart_curated")
    catalog.create_table("instacart_curated", delta_table_input(
        "reorder_scores", "s3://curated/reorder_scores", schema, partition_keys=["model_version"],
        description="one row per user and product", parameters={"last_job_run_id": "jr_1"}))

    table = catalog.get_table("instacart_curated", "reorder_scores")

    assert table["Parameters"]["table_type"] == "DELTA"
    assert table["Parameters"]["last_job_run_id"] == "jr_1"
    assert columns_of(table) == [("user_id", "int"), ("reorder_probability", "double")]
    assert table["PartitionKeys"] == [{"Name": "model_version", "Type": "string"}]


def test_delta_table_input_shape():
    schema = T.StructType([
        T.StructField("order_id", T.IntegerType(), False),
        T.StructField("amount", T.DecimalType(10, 2), True),
        T.StructField("product_ids", T.ArrayType(T.LongType()), True),
        T.StructField("scored_at", T.TimestampNTZType(), True),
        T.StructField("ingest_date", T.DateType(), True),
    ])

    table_input = delta_table_input("orders", "s3://clean/orders", schema, ["ingest_date"], "one row per order")

    assert table_input["TableType"] == "EXTERNAL_TABLE"
    assert table_input["Description"] == "one row per order"
    assert {key: table_input["Parameters"][key] for key in
            ("EXTERNAL", "table_type", "classification", "spark.sql.sources.provider",
             "spark.sql.sources.schema.numParts", "spark.sql.sources.schema.numPartCols",
             "spark.sql.sources.schema.partCol.0")} == {
        "EXTERNAL": "TRUE", "table_type": "DELTA", "classification": "delta",
        "spark.sql.sources.provider": "delta", "spark.sql.sources.schema.numParts": "1",
        "spark.sql.sources.schema.numPartCols": "1", "spark.sql.sources.schema.partCol.0": "ingest_date"}
    assert T.StructType.fromJson(json.loads(table_input["Parameters"]["spark.sql.sources.schema.part.0"])) == schema
    assert table_input["StorageDescriptor"]["Columns"] == [
        {"Name": "order_id", "Type": "int"}, {"Name": "amount", "Type": "decimal(10,2)"},
        {"Name": "product_ids", "Type": "array<bigint>"}, {"Name": "scored_at", "Type": "timestamp"}]
    assert table_input["PartitionKeys"] == [{"Name": "ingest_date", "Type": "date"}]
    assert table_input["StorageDescriptor"]["Location"] == "s3://clean/orders"
    assert table_input["StorageDescriptor"]["SerdeInfo"]["Parameters"]["path"] == "s3://clean/orders"


def test_delta_table_input_from_column_pairs_refuses_an_unknown_partition_key():
    table_input = delta_table_input("aisles", "file:///lake/clean/aisles", [("aisle_id", "int"), ("aisle", "string")])

    assert table_input["StorageDescriptor"]["Columns"] == [
        {"Name": "aisle_id", "Type": "int"}, {"Name": "aisle", "Type": "string"}]
    assert table_input["PartitionKeys"] == []
    assert "spark.sql.sources.schema.numParts" not in table_input["Parameters"]
    with pytest.raises(ValueError, match="ingest_date"):
        delta_table_input("aisles", "s3://x", [("aisle_id", "int")], partition_keys=["ingest_date"])


# -- embedded catalog only: the file, concurrency, selection ---------------------------------


def _create_tables(catalog_uri: str, prefix: str, count: int) -> None:
    catalog = EmbeddedCatalog(catalog_uri)
    for index in range(count):
        catalog.create_table("raw", csv_table_input(f"{prefix}_{index}", AISLES, f"s3://raw/{prefix}_{index}/"))
        catalog.update_table("raw", csv_table_input(f"{prefix}_{index}", AISLES, f"s3://raw/{prefix}_{index}/v2/"))


def test_embedded_catalog_loses_nothing_when_processes_write_at_once(tmp_path):
    catalog_uri = (tmp_path / "catalog.json").as_uri()
    EmbeddedCatalog(catalog_uri).ensure_database("raw")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_create_tables, args=(catalog_uri, f"w{worker}", 15)) for worker in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    tables = EmbeddedCatalog(catalog_uri).get_tables("raw")

    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    assert len(tables) == 45
    assert {table["VersionId"] for table in tables} == {"2"}


def test_embedded_catalog_names_a_corrupt_file(tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text("{not json")

    with pytest.raises(CatalogError, match="catalog.json"):
        EmbeddedCatalog(path.as_uri()).get_databases()


def test_embedded_catalog_writes_nothing_when_a_change_fails(tmp_path):
    catalog = EmbeddedCatalog((tmp_path / "catalog.json").as_uri())
    catalog.ensure_database("raw")
    before = (tmp_path / "catalog.json").read_text()

    with pytest.raises(EntityNotFoundError):
        catalog.update_partition("raw", "missing", ["x"], partition_input("x", "s3://x/"))

    assert (tmp_path / "catalog.json").read_text() == before


def test_open_catalog_picks_the_configured_catalog(tmp_path, monkeypatch):
    for name in ("LAKE_PROFILE", "LAKE_ROOT", "LAKE_META_URI", "LAKE_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    local = load_config("local", root=tmp_path / "lake")
    aws = load_config("aws")

    embedded = open_catalog(local, Locations(local))
    glue = open_catalog(aws, Locations(aws))

    assert isinstance(embedded, EmbeddedCatalog)
    assert embedded.catalog_uri == (tmp_path / "lake" / "_meta" / "catalog.json").resolve().as_uri()
    assert isinstance(glue, GlueCatalog)
    assert glue.client.meta.region_name == "us-east-1"
