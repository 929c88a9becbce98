"""Ingest and job 1 count the same records (instacart_lake.csv_records) on the files that
used to set them apart, and a count that does not reconcile commits nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from deltalake import DeltaTable

from instacart_lake import storage
from instacart_lake.delta import DeltaTableIO
from instacart_lake.ingest import ingest, read_manifest
from instacart_lake.jobs.raw_to_clean import AccountingMismatch, run_raw_to_clean
from instacart_lake.locations import uri_to_path

DAY = dt.date(2026, 11, 28)
AISLES = b'aisle_id,aisle\r\n1,"fresh\r\nfruits"\r\n2,soup\r\n'
DEPARTMENTS = b"department_id,department\n1,produce\n2,\tpantry\t\n"
PRODUCTS = b"".join([
    b"product_id,product_name,aisle_id,department_id\n",
    b"1,Chocolate\rChip Cookies,1,1\n",      # 2: a lone CR is data, whitespace in a name
    b'2,"Two\nLines",2,2\n',                 # 3-4: a quoted line end: one record
    b"\t3\t,Tabbed,\t1\t,2\n",               # 5: tab-padded integers
    b'4,"Unterminated,1,1\n',                # 6: a quote that never closes
    b"5,Next,1,1\n",                          # 7: read as it is after the stray quote
    b"6," + b"x" * 501 + b",1,1\n",           # 8: longer than product_name's 500
])


def source(tmp_path, **files: bytes):
    folder = tmp_path / "source"
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        (folder / f"{name}.csv").write_bytes(content)
    return folder


def read_rows(lake, name: str) -> list[dict]:
    return DeltaTable(uri_to_path(lake.locations.table_uri("clean", name))).to_pyarrow_table().to_pylist()


def test_ingest_and_job_1_count_the_same_records_and_bad_ones_are_quarantined(spark, lake, tmp_path):
    ingest(lake, [str(source(tmp_path, aisles=AISLES, departments=DEPARTMENTS, products=PRODUCTS))], "jr_1", DAY)

    runs = {run.table.name: run for run in run_raw_to_clean(spark, lake, "jr_job")}

    manifest = {landing.table: landing.row_count for landing in read_manifest(lake)}
    assert manifest == {"aisles": 2, "departments": 2, "products": 6}
    assert {name: run.raw_lines for name, run in runs.items() if run.files} == manifest
    assert sorted((r["aisle_id"], r["aisle"]) for r in read_rows(lake, "aisles")) == [(1, "fresh fruits"), (2, "soup")]
    assert sorted((r["department_id"], r["department"]) for r in read_rows(lake, "departments")) == [
        (1, "produce"), (2, "pantry")]
    assert sorted((r["product_id"], r["product_name"], r["aisle_id"]) for r in read_rows(lake, "products")) == [
        (1, "Chocolate Chip Cookies", 1), (2, "Two Lines", 2), (3, "Tabbed", 1), (5, "Next", 1)]
    quarantine = sorted((r["line_number"], r["reasons"], bytes(r["raw_bytes"]))
                        for r in read_rows(lake, "products_quarantine"))
    assert quarantine == [(6, ["unterminated_quote", "wrong_column_count"], b'4,"Unterminated,1,1'),
                          (8, ["too_long:product_name"], b"6," + b"x" * 501 + b",1,1")]


def test_a_count_that_does_not_reconcile_commits_no_table(spark, lake, tmp_path):
    folder = source(tmp_path, aisles=AISLES, departments=DEPARTMENTS, products=PRODUCTS)
    ingest(lake, [str(folder)], "jr_1", DAY)
    run_raw_to_clean(spark, lake, "jr_first")
    table_io = DeltaTableIO(spark)
    tables = ["aisles", "departments", "products", "aisles_quarantine", "products_quarantine"]
    versions = {name: table_io.version(lake.locations.table_uri("clean", name)) for name in tables}
    ledger = storage.read_text(lake.locations.ledger_uri("raw_to_clean"))
    source(tmp_path, aisles=AISLES + b"3,bakery\r\n", products=PRODUCTS + b"7,Bread,3,1\n")
    ingest(lake, [str(folder / "aisles.csv"), str(folder / "products.csv")], "jr_2", DAY)
    products_v2 = next(landing for landing in read_manifest(lake)
                       if landing.table == "products" and landing.version == 2)
    manifest_uri = lake.locations.ingest_manifest_uri
    records = [json.loads(line) for line in storage.read_text(manifest_uri).splitlines()]
    for record in records:  # as if ingest had counted one record less
        record["row_count"] -= record["table"] == "products" and record["version"] == 2
    storage.write_text_atomic(manifest_uri, "".join(json.dumps(record) + "\n" for record in records))

    with pytest.raises(AccountingMismatch) as mismatch:
        run_raw_to_clean(spark, lake, "jr_second")

    assert str(mismatch.value) == (f"{products_v2.uri}: the ingest manifest counts 6 records, job 1 read 7; "
                                   "nothing committed")
    assert {name: table_io.version(lake.locations.table_uri("clean", name)) for name in tables} == versions
    assert storage.read_text(lake.locations.ledger_uri("raw_to_clean")) == ledger
