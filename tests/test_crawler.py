"""The raw-zone crawler: Glue's CSV classification rules, the catalog entries it writes,
schema drift with versions kept, refused files, and re-crawls that change nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from moto import mock_aws

from instacart_lake.catalog import GlueCatalog
from instacart_lake.crawler import CrawlProblem, PartitionChange, SchemaDrift, crawl_raw_zone, infer_file_schema
from instacart_lake.crawler.layout import SAMPLE_BYTES
from instacart_lake.errors import InputError, LakeError
from instacart_lake.locations import uri_to_path

DAY_1 = dt.date(2024, 1, 1)
DAY_2 = dt.date(2024, 1, 2)


def land(lake, table: str, day: dt.date, file_name: str, content: bytes) -> Path:
    path = Path(uri_to_path(lake.locations.raw_landing_uri(table, day))) / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def schema_of(content: bytes, is_whole_file: bool = True):
    schema = infer_file_schema(content, is_whole_file, "raw/x.csv")
    return [(column.name, column.type) for column in schema.columns], schema


def columns_of(entry: dict) -> list[tuple[str, str]]:
    return [(column["Name"], column["Type"]) for column in entry["StorageDescriptor"]["Columns"]]


# -- classification of one file ----------------------------------------------------------------


def test_unquoted_file_with_header():
    columns, schema = schema_of(b"aisle_id,aisle\n1,prepared soups salads\n2,specialty cheeses\n")

    assert columns == [("aisle_id", "bigint"), ("aisle", "string")]
    assert (schema.delimiter, schema.has_header, schema.quoted, schema.data_records) == (",", True, False, 2)


def test_quoted_fields_with_commas_quotes_non_ascii_and_crlf():
    content = ('product_id,product_name,aisle_id,department_id\r\n'
               '1,"Chocolate Sandwich Cookies",61,19\r\n'
               '2,"All-Seasons Salt, ""Fine""",104,13\r\n'
               '3,"Crème Brûlée Tea, 日本",94,7\r\n').encode("utf-8")

    columns, schema = schema_of(content)

    assert columns == [("product_id", "bigint"), ("product_name", "string"),
                       ("aisle_id", "bigint"), ("department_id", "bigint")]
    assert schema.quoted is True
    assert schema.data_records == 3


def test_every_field_quoted():
    columns, schema = schema_of(b'"department_id","department"\n"1","frozen"\n"2","other"\n')

    assert columns == [("department_id", "bigint"), ("department", "string")]
    assert schema.has_header and schema.quoted


def test_byte_order_mark_is_not_part_of_the_first_column_name():
    columns, _ = schema_of(b"\xef\xbb\xbfaisle_id,aisle\r\n1,fresh fruits\r\n")

    assert columns == [("aisle_id", "bigint"), ("aisle", "string")]


def test_decimal_zero_padded_and_empty_values():
    content = (b"order_id,user_id,eval_set,order_number,order_dow,order_hour_of_day,days_since_prior_order\n"
               b"2539329,1,prior,1,2,08,\n"
               b"2398795,1,prior,2,3,07,15.0\n"
               b"473747,1,prior,3,3,12,21.0\n")

    columns, _ = schema_of(content)

    assert columns == [("order_id", "bigint"), ("user_id", "bigint"), ("eval_set", "string"),
                       ("order_number", "bigint"), ("order_dow", "bigint"), ("order_hour_of_day", "bigint"),
                       ("days_since_prior_order", "double")]


def test_types_widen_and_a_column_without_values_has_no_type():
    content = b"a,b,c,d,e\n1,1,true,x, \n2,2.5,FALSE,3,\n3,1e3,1,,\n"

    columns, _ = schema_of(content)

    assert columns == [("a", "bigint"), ("b", "double"), ("c", "string"), ("d", "string"), ("e", None)]


def test_booleans_and_values_trimmed_before_typing():
    columns, _ = schema_of(b"id,flag\n 1 ,true\n2, False \n")

    assert columns == [("id", "bigint"), ("flag", "boolean")]


def test_header_only_file_gives_names_without_types():
    columns, schema = schema_of(b"order_id,product_id,add_to_cart_order,reordered\n")

    assert columns == [("order_id", None), ("product_id", None), ("add_to_cart_order", None), ("reordered", None)]
    assert schema.has_header is True
    assert schema.data_records == 0


def test_no_header_when_every_column_is_a_string():
    columns, schema = schema_of(b"name,city\nann,paris\nbob,rome\n")

    assert columns == [("col0", "string"), ("col1", "string")]
    assert schema.has_header is False
    assert schema.data_records == 3


def test_no_header_when_the_first_row_holds_numbers():
    columns, schema = schema_of(b"1,apples\n2,pears\n")

    assert columns == [("col0", "bigint"), ("col1", "string")]
    assert schema.has_header is False


def test_header_names_are_lower_cased_and_trimmed():
    columns, _ = schema_of(b"Order_ID , Eval Set\n1,prior\n")

    assert columns == [("order_id", "bigint"), ("eval set", "string")]


def test_other_delimiters():
    assert schema_of(b"aisle_id|aisle\n1|soups, salads\n")[1].delimiter == "|"
    assert schema_of(b"aisle_id\taisle\n1\tsoups\n")[1].delimiter == "\t"
    assert schema_of(b"aisle_id;aisle\n1;soups\n")[1].delimiter == ";"


def test_a_sample_cut_inside_a_quoted_line_break_leaves_the_unfinished_record_out():
    columns, schema = schema_of(b'id,note\n1,"first"\n2,"two\nlines', is_whole_file=False)

    assert columns == [("id", "bigint"), ("note", "string")]
    assert schema.data_records == 1


@pytest.mark.parametrize("content, message, line", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content", None),
    (b"aisle_id,aisle\n1,caf\xe9\n", "not UTF-8", None),
    (b"a,b\n1,2\n3,4,5\n", "3 fields where the first record has 2", 3),
    (b"aisle\nsoups\nfruits\n", "single column", 1),
    (b'a,b\n1,"x"y\n', "not CSV", 2),
    (b"", "empty file", 1),
    (b"\n\n", "no records", 1),
])
def test_content_that_is_not_csv_is_refused_with_path_and_line(content, message, line):
    with pytest.raises(InputError, match=message) as raised:
        infer_file_schema(content, True, "raw/orders/ingest_date=2024-01-01/orders.csv")

    assert raised.value.path == "raw/orders/ingest_date=2024-01-01/orders.csv"
    assert raised.value.line == line


def test_duplicate_header_names_are_refused():
    with pytest.raises(InputError, match="order_id more than once"):
        infer_file_schema(b"order_id,Order_ID\n1,2\n", True, "x.csv")


# -- catalog entries written by a crawl ---------------------------------------------------------


def test_first_crawl_creates_tables_and_partitions_as_glue_does(lake):
    aisles = land(lake, "aisles", DAY_1, "aisles.csv", b"aisle_id,aisle\n1,prepared soups salads\n2,energy bars\n")
    database = lake.locations.database("raw")

    report = crawl_raw_zone(lake)

    table = lake.catalog.get_table(database, "aisles")
    [partition] = lake.catalog.get_partitions(database, "aisles")
    table_folder = lake.locations.table_uri("raw", "aisles") + "/"
    assert report.tables_created == ["aisles"]
    assert report.partitions_added == [PartitionChange("aisles", "ingest_date=2024-01-01",
                                                       f"{table_folder}ingest_date=2024-01-01/")]
    assert report.drift == [] and report.problems == []
    assert [d["Name"] for d in lake.catalog.get_databases()] == [database]
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["PartitionKeys"] == [{"Name": "ingest_date", "Type": "string"}]
    assert columns_of(table) == [("aisle_id", "bigint"), ("aisle", "string")]
    assert table["StorageDescriptor"]["Location"] == table_folder
    assert table["StorageDescriptor"]["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    assert table["StorageDescriptor"]["OutputFormat"] == "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
    assert table["StorageDescriptor"]["SerdeInfo"] == {
        "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
        "Parameters": {"field.delim": ","}}
    assert table["Parameters"] == {
        "CrawlerSchemaDeserializerVersion": "1.0", "CrawlerSchemaSerializerVersion": "1.0",
        "UPDATED_BY_CRAWLER": "instacart_raw_crawler", "areColumnsQuoted": "false",
        "averageRecordSize": "19", "classification": "csv", "columnsOrdered": "true",
        "compressionType": "none", "delimiter": ",", "objectCount": "1", "recordCount": "2",
        "sizeKey": str(aisles.stat().st_size), "skip.header.line.count": "1", "typeOfData": "file"}
    assert partition["Values"] == ["2024-01-01"]
    assert partition["StorageDescriptor"]["Location"] == f"{table_folder}ingest_date=2024-01-01/"
    assert columns_of(partition) == [("aisle_id", "bigint"), ("aisle", "string")]
    assert partition["StorageDescriptor"]["Parameters"]["recordCount"] == "2"


def test_quoted_files_get_the_open_csv_serde(lake):
    land(lake, "products", DAY_1, "products.csv",
         b'product_id,product_name,aisle_id,department_id\n1,"Salt, ""Fine""",104,13\n2,Banana,24,4\n')

    crawl_raw_zone(lake)

    table = lake.catalog.get_table(lake.locations.database("raw"), "products")
    assert table["StorageDescriptor"]["SerdeInfo"] == {
        "SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde",
        "Parameters": {"quoteChar": '"', "separatorChar": ","}}
    assert table["Parameters"]["areColumnsQuoted"] == "true"


def test_record_count_of_a_file_longer_than_the_sample_is_estimated_from_the_sample(lake):
    header = b"order_id,reordered\n"
    line = b"1000000,1\n"
    rows = (SAMPLE_BYTES * 2) // len(line)
    land(lake, "order_products__train", DAY_1, "order_products__train.csv", header + line * rows)

    crawl_raw_zone(lake)

    table = lake.catalog.get_table(lake.locations.database("raw"), "order_products__train")
    assert table["Parameters"]["recordCount"] == str(rows)
    assert table["Parameters"]["averageRecordSize"] == str(len(line))


def test_staging_and_hidden_files_are_ignored_and_misplaced_files_reported(lake):
    raw = Path(uri_to_path(lake.locations.zone_uri("raw")))
    land(lake, "aisles", DAY_1, "aisles.csv", b"aisle_id,aisle\n1,soups\n")
    land(lake, "aisles", DAY_1, ".aisles.csv.tmp", b"\x00\x01")
    (raw / "_staging").mkdir()
    (raw / "_staging" / "orders.csv").write_bytes(b"\x00binary")
    (raw / "aisles" / "aisles.csv").write_bytes(b"aisle_id,aisle\n1,soups\n")

    report = crawl_raw_zone(lake)

    assert report.tables_created == ["aisles"]
    assert report.problems == [CrawlProblem(
        lake.locations.table_uri("raw", "aisles") + "/aisles.csv",
        "not in a <table>/ingest_date=<date>/ folder of the raw zone, so it is not cataloged")]


def test_a_file_that_is_not_csv_is_reported_and_the_rest_cataloged(lake):
    land(lake, "aisles", DAY_1, "aisles.csv", b"aisle_id,aisle\n1,soups\n")
    land(lake, "orders", DAY_1, "orders.csv", b"PK\x03\x04\x00\x00zip archive")
    land(lake, "departments", DAY_1, "departments.csv", b"department_id,department\n1,frozen\n2,x,y\n")

    report = crawl_raw_zone(lake)

    assert report.tables_created == ["aisles"]
    assert report.problems == [
        CrawlProblem(lake.locations.raw_landing_uri("departments", DAY_1) + "/departments.csv",
                     "not CSV: 3 fields where the first record has 2 (delimiter ',')", 3),
        CrawlProblem(lake.locations.raw_landing_uri("orders", DAY_1) + "/orders.csv",
                     "binary content (NUL bytes), not CSV text"),
    ]
    assert lake.catalog.get_table(lake.locations.database("raw"), "orders") is None


# -- schema drift, versions, re-crawls ----------------------------------------------------------

LANDING_1 = (b"order_id,user_id,order_hour_of_day,days_since_prior_order\n"
             b"1,1,09,\n2,1,10,15.0\n")
LANDING_2 = (b"order_id,user_id,days_since_prior_order,eval_set\n"
             b"3,u2,7.0,prior\n4,u2,30.0,train\n")


def test_drift_between_landings_makes_a_new_table_version(lake):
    database = lake.locations.database("raw")
    land(lake, "orders", DAY_1, "orders.csv", LANDING_1)
    crawl_raw_zone(lake)
    land(lake, "orders", DAY_2, "orders.csv", LANDING_2)

    report = crawl_raw_zone(lake)

    assert report.tables_updated == ["orders"]
    assert sorted(report.drift, key=lambda d: d.kind) == [
        SchemaDrift("orders", "ingest_date=2024-01-02", "added", "eval_set", None, "string"),
        SchemaDrift("orders", "ingest_date=2024-01-02", "missing", "order_hour_of_day", "bigint", None),
        SchemaDrift("orders", "ingest_date=2024-01-02", "retyped", "user_id", "bigint", "string"),
    ]
    versions = lake.catalog.get_table_versions(database, "orders")
    assert [columns_of(version["Table"]) for version in versions] == [
        [("order_id", "bigint"), ("user_id", "bigint"), ("order_hour_of_day", "bigint"),
         ("days_since_prior_order", "double")],
        [("order_id", "bigint"), ("user_id", "string"), ("order_hour_of_day", "bigint"),
         ("days_since_prior_order", "double"), ("eval_set", "string")],
    ]
    first, second = lake.catalog.get_partitions(database, "orders")
    assert columns_of(first) == columns_of(versions[0]["Table"])
    assert columns_of(second) == [("order_id", "bigint"), ("user_id", "string"),
                                  ("days_since_prior_order", "double"), ("eval_set", "string")]


def test_log_policy_reports_drift_and_leaves_the_table(lake):
    database = lake.locations.database("raw")
    land(lake, "orders", DAY_1, "orders.csv", LANDING_1)
    crawl_raw_zone(lake, schema_change_policy="log")
    land(lake, "orders", DAY_2, "orders.csv", LANDING_2)

    report = crawl_raw_zone(lake, schema_change_policy="log")

    assert [(d.kind, d.column) for d in report.drift] == [
        ("added", "eval_set"), ("missing", "order_hour_of_day"), ("retyped", "user_id")]
    assert report.tables_unchanged == ["orders"]
    assert [version["VersionId"] for version in lake.catalog.get_table_versions(database, "orders")] == ["1"]
    assert report.partitions_added == [PartitionChange(
        "orders", "ingest_date=2024-01-02", lake.locations.raw_landing_uri("orders", DAY_2) + "/")]


def test_drift_is_found_between_landings_crawled_together(lake):
    land(lake, "orders", DAY_1, "orders.csv", LANDING_1)
    land(lake, "orders", DAY_2, "orders.csv", LANDING_2)

    report = crawl_raw_zone(lake)

    assert report.tables_created == ["orders"]
    assert {(d.partition, d.kind, d.column) for d in report.drift} == {
        ("ingest_date=2024-01-02", "added", "eval_set"),
        ("ingest_date=2024-01-02", "missing", "order_hour_of_day"),
        ("ingest_date=2024-01-02", "retyped", "user_id")}


def test_recrawl_with_nothing_new_changes_nothing(lake):
    land(lake, "orders", DAY_1, "orders.csv", LANDING_1)
    land(lake, "aisles", DAY_1, "aisles.csv", b"aisle_id,aisle\n1,soups\n")
    crawl_raw_zone(lake)
    catalog_file = Path(uri_to_path(lake.locations.catalog_uri))
    before = catalog_file.read_bytes()

    report = crawl_raw_zone(lake)

    assert report.tables_unchanged == ["aisles", "orders"]
    assert not report.changed_catalog
    assert report.drift == [] and report.problems == []
    assert catalog_file.read_bytes() == before


def test_a_file_landing_in_an_existing_partition_updates_it(lake):
    database = lake.locations.database("raw")
    land(lake, "orders", DAY_1, "orders.csv", LANDING_1)
    crawl_raw_zone(lake)
    land(lake, "orders", DAY_1, "orders.v2.csv", LANDING_1 + b"5,3,11,2.0\n")

    report = crawl_raw_zone(lake)

    [partition] = lake.catalog.get_partitions(database, "orders")
    assert report.partitions_updated == [PartitionChange(
        "orders", "ingest_date=2024-01-01", lake.locations.raw_landing_uri("orders", DAY_1) + "/")]
    assert report.partitions_added == [] and report.drift == []
    assert partition["StorageDescriptor"]["Parameters"]["objectCount"] == "2"
    assert partition["StorageDescriptor"]["Parameters"]["recordCount"] == "5"
    assert lake.catalog.get_table(database, "orders")["Parameters"]["recordCount"] == "5"


def test_a_header_only_landing_takes_the_table_types_without_drift(lake):
    database = lake.locations.database("raw")
    land(lake, "order_products__train", DAY_1, "order_products__train.csv",
         b"order_id,product_id,add_to_cart_order,reordered\r\n1,49302,1,1\r\n")
    crawl_raw_zone(lake)
    land(lake, "order_products__train", DAY_2, "order_products__train.csv",
         b"\xef\xbb\xbforder_id,product_id,add_to_cart_order,reordered\r\n")

    report = crawl_raw_zone(lake)

    second = lake.catalog.get_partitions(database, "order_products__train")[1]
    assert report.drift == []
    assert columns_of(second) == [("order_id", "bigint"), ("product_id", "bigint"),
                                  ("add_to_cart_order", "bigint"), ("reordered", "bigint")]
    assert second["StorageDescriptor"]["Parameters"]["recordCount"] == "0"


def test_unknown_schema_change_policy_is_refused(lake):
    with pytest.raises(LakeError, match="unknown schema change policy 'merge'"):
        crawl_raw_zone(lake, schema_change_policy="merge")


def test_crawl_into_glue_writes_the_same_entries_as_the_embedded_catalog(lake, tmp_path, monkeypatch):
    """The crawler through the Glue catalog (moto) and through the embedded one, same files."""
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    database = lake.locations.database("raw")
    land(lake, "orders", DAY_1, "orders.csv", LANDING_1)
    land(lake, "orders", DAY_2, "orders.csv", LANDING_2)
    embedded_report = crawl_raw_zone(lake)
    embedded = lake.catalog
    with mock_aws():
        lake.__dict__["catalog"] = GlueCatalog(region_name="us-east-1")
        glue_report = crawl_raw_zone(lake)
        recrawl = crawl_raw_zone(lake)
        glue = lake.catalog

        assert glue_report == embedded_report
        assert recrawl.tables_unchanged == ["orders"] and not recrawl.changed_catalog
        for entry in ("Parameters", "StorageDescriptor", "PartitionKeys", "TableType"):
            assert glue.get_table(database, "orders")[entry] == embedded.get_table(database, "orders")[entry]
        assert ([p["StorageDescriptor"] for p in glue.get_partitions(database, "orders")]
                == [p["StorageDescriptor"] for p in embedded.get_partitions(database, "orders")])
