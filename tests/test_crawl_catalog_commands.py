"""`lake crawl` and `lake catalog` through the CLI entry point, on a small lake."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from instacart_lake.cli import main
from instacart_lake.locations import uri_to_path


def land(lake, table: str, file_name: str, content: bytes) -> None:
    path = Path(uri_to_path(lake.locations.raw_landing_uri(table, dt.date(2024, 3, 1)))) / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def lake_args(tmp_path: Path) -> list[str]:
    """The arguments that point the CLI at the `lake` fixture's lake."""
    return ["--lake-root", str(tmp_path / "lake"), "--profile", "local"]


def test_crawl_then_catalog_as_json(lake, tmp_path, capsys):
    land(lake, "aisles", "aisles.csv", b"aisle_id,aisle\n1,prepared soups salads\n2,specialty cheeses\n")
    land(lake, "orders", "orders.csv", b"\x00\x01\x02")

    crawl_exit = main([*lake_args(tmp_path), "crawl", "--json"])
    crawl = json.loads(capsys.readouterr().out)
    catalog_exit = main([*lake_args(tmp_path), "catalog", "--json"])
    catalog = json.loads(capsys.readouterr().out)

    orders_file = lake.locations.raw_landing_uri("orders", dt.date(2024, 3, 1)) + "/orders.csv"
    aisles_folder = lake.locations.table_uri("raw", "aisles") + "/"
    assert (crawl_exit, catalog_exit) == (0, 0)
    assert crawl["database"] == "instacart_raw"
    assert crawl["tables_created"] == ["aisles"]
    assert crawl["partitions_added"] == [
        {"table": "aisles", "partition": "ingest_date=2024-03-01",
         "location": f"{aisles_folder}ingest_date=2024-03-01/"}]
    assert crawl["problems"] == [
        {"path": orders_file, "message": "binary content (NUL bytes), not CSV text", "line": None}]
    [database] = catalog["databases"]
    [table] = database["tables"]
    assert database["name"] == "instacart_raw"
    assert {key: table[key] for key in ("name", "table_type", "classification", "location", "columns",
                                        "partition_keys", "partitions", "version")} == {
        "name": "aisles", "table_type": "EXTERNAL_TABLE", "classification": "csv", "location": aisles_folder,
        "columns": [{"name": "aisle_id", "type": "bigint"}, {"name": "aisle", "type": "string"}],
        "partition_keys": [{"name": "ingest_date", "type": "string"}], "partitions": 1, "version": "1"}
    assert table["parameters"]["skip.header.line.count"] == "1"


def test_crawl_log_policy_and_readable_output(lake, tmp_path, capsys):
    land(lake, "aisles", "aisles.csv", b"aisle_id,aisle\n1,prepared soups salads\n")

    exit_code = main([*lake_args(tmp_path), "crawl", "--schema-change-policy", "log"])
    crawl_output = capsys.readouterr().out
    main([*lake_args(tmp_path), "catalog", "--database", "instacart_raw"])
    catalog_output = capsys.readouterr().out

    assert exit_code == 0
    assert "1 tables created" in crawl_output and "policy log" in crawl_output
    assert "instacart_raw.aisles" in catalog_output
    assert "aisle_id" in catalog_output and "bigint" in catalog_output


def test_catalog_of_an_unknown_database_is_an_error(lake, tmp_path, capsys):
    exit_code = main([*lake_args(tmp_path), "catalog", "--database", "nope"])

    assert exit_code == 1
    assert "no database nope in the catalog" in capsys.readouterr().err
