"""How rule outcomes are told: a failed gate in one line per failed rule (table, rule as written,
`file:line`, what it measured), the rules that warned on the console, and a header-only
landing that adds nothing (or, on a table's first run, fails the rules that need rows)."""

from __future__ import annotations

import pytest
from rich.console import Console
from test_order_contract import SOURCES

from instacart_lake.context import Lake
from instacart_lake.delta import DeltaTableIO
from instacart_lake.dq.results import failed_rule_line
from instacart_lake.ingest import ingest
from instacart_lake.jobs.quality_gate import evaluate_gate, stop_failures
from instacart_lake.jobs.raw_to_clean import GateStopped, run_raw_to_clean
from instacart_lake.runs import RunRecord, StageRecord
from instacart_lake.summary import failed_rules, print_run_summary

GATE_FAILED = "data-quality gate failed, nothing committed to the clean tables:\n  "


def test_a_failed_rule_is_one_line_with_what_it_measured():
    assert failed_rule_line("products", 'ColumnLength "product_name" between 0 and 501', "products.dqdl:8",
                            {"Column.product_name.MaximumLength": 1048576.0,
                             "Column.product_name.MinimumLength": 3.0}, "Value: 1048576.0 does not meet") == (
        'products: ColumnLength "product_name" between 0 and 501 at products.dqdl:8: '
        "MaximumLength 1,048,576, MinimumLength 3")
    assert failed_rule_line("products", 'IsPrimaryKey "product_id"', None, {},
                            "Empty state for analyzer Uniqueness, all input values were NULL.\n"
                            "Empty state for analyzer Completeness(product_id), all input values were NULL.") == (
        'products: IsPrimaryKey "product_id": no values to measure (no rows, or all NULL)')
    assert failed_rule_line("products", 'ReferentialIntegrity "aisle_id" "aisles.aisle_id" = 1.0', "products.dqdl:9",
                            {}, "Primary data frame contains no data.") == (
        'products: ReferentialIntegrity "aisle_id" "aisles.aisle_id" = 1.0 at products.dqdl:9: '
        "Primary data frame contains no data.")
    assert failed_rule_line("orders", 'Mean "days_since_prior_order" between 5 and 25', "orders.dqdl:20",
                            {"Column.days_since_prior_order.Mean": 2.3456}, None) == (
        'orders: Mean "days_since_prior_order" between 5 and 25 at orders.dqdl:20: Mean 2.346')


def test_the_gate_tells_only_its_failed_stop_rules_with_their_lines(spark, lake: Lake, tmp_path):
    rulesets = tmp_path / "rulesets"
    rulesets.mkdir()
    (rulesets / "products.dqdl").write_text(
        'Rules = [\n    RowCount > 0,\n    IsComplete "product_name",\n'
        '    ColumnLength "product_name" between 0 and 11,\n    # action: warn\n    RowCount > 5\n]\n')
    products = spark.createDataFrame([(1, "Banana"), (2, "Organic Strawberries")],
                                     "product_id int, product_name string")

    results = evaluate_gate(spark, lake, DeltaTableIO(spark), "raw_to_clean", "jr_gate", {"products": products},
                            rulesets, {})

    assert stop_failures(results) == [
        'products: ColumnLength "product_name" between 0 and 11 at products.dqdl:4: '
        "MaximumLength 20, MinimumLength 6"]


def test_a_run_summary_prints_each_rule_that_warned_on_one_line():
    rules = [
        {"rule": "RowCount > 0", "outcome": "Passed", "action": "stop", "metrics": {"Dataset.*.RowCount": 8.0},
         "failure_reason": None, "location": "orders.dqdl:3"},
        {"rule": 'CustomSql "select count(*) from primary" = 0', "outcome": "Failed", "action": "warn",
         "metrics": {"Dataset.*.CustomSQL": 1.0}, "failure_reason": "Value: 1.0 does not meet the constraint",
         "location": "orders.dqdl:16"},
    ]
    record = RunRecord("run-1", outcome="succeeded", stages=[
        StageRecord("raw_to_clean", outcome="succeeded", tables={"orders": {"rows_written": 8, "rules": rules}})])
    expected = ('raw_to_clean: warn rule failed: orders: CustomSql "select count(*) from primary" = 0 '
                "at orders.dqdl:16: CustomSQL 1")
    console = Console(record=True, width=60)

    print_run_summary(record, console)

    assert failed_rules(record) == [expected]
    assert expected in console.export_text().splitlines()


def land(lake: Lake, directory, files: dict[str, str], run_id: str) -> None:
    directory.mkdir()
    for name, text in files.items():
        (directory / name).write_text(text)
    ingest(lake, [str(directory)], run_id)


def test_a_header_only_file_on_a_first_run_fails_the_rules_that_need_rows(spark, lake: Lake, tmp_path):
    header = SOURCES["order_products__train.csv"].splitlines(keepends=True)[0]
    land(lake, tmp_path / "source", SOURCES | {"order_products__train.csv": header}, "jr_ingest")

    with pytest.raises(GateStopped) as stopped:
        run_raw_to_clean(spark, lake, "jr_header_only")

    message = str(stopped.value)
    assert message.startswith(GATE_FAILED)
    failures = message.removeprefix(GATE_FAILED).split("\n  ")
    assert failures[0] == "order_products__train: RowCount > 0 at order_products__train.dqdl:3: RowCount 0"
    assert failures[1:] == [
        'order_products__train: IsPrimaryKey "order_id" "product_id" at order_products__train.dqdl:4: '
        "no values to measure (no rows, or all NULL)",
        'order_products__train: ColumnValues "reordered" in [0, 1] at order_products__train.dqdl:5: '
        "no values to measure (no rows, or all NULL)",
        'order_products__train: ColumnValues "add_to_cart_order" > 0 at order_products__train.dqdl:6: '
        "no values to measure (no rows, or all NULL)",
        'order_products__train: ReferentialIntegrity "order_id" "orders.order_id" = 1.0 '
        "at order_products__train.dqdl:7: Primary data frame contains no data.",
        'order_products__train: ReferentialIntegrity "product_id" "products.product_id" = 1.0 '
        "at order_products__train.dqdl:8: Primary data frame contains no data.",
    ]


def test_a_header_only_landing_on_a_table_with_rows_adds_nothing(spark, lake: Lake, tmp_path):
    land(lake, tmp_path / "first", SOURCES, "jr_ingest_1")
    run_raw_to_clean(spark, lake, "jr_first")
    products_uri = lake.locations.table_uri("clean", "products")
    table_io = DeltaTableIO(spark)
    version = table_io.version(products_uri)
    land(lake, tmp_path / "second", {"products.csv": SOURCES["products.csv"].splitlines(keepends=True)[0]},
         "jr_ingest_2")

    runs = {run.table.name: run for run in run_raw_to_clean(spark, lake, "jr_header_only")}
    again = {run.table.name: run for run in run_raw_to_clean(spark, lake, "jr_again")}

    assert len(runs["products"].files) == 1
    assert (runs["products"].raw_lines, runs["products"].clean_rows, runs["products"].clean_version) == (0, 0, version)
    assert table_io.version(products_uri) == version
    assert table_io.read(products_uri).count() == 3
    assert again["products"].files == []
