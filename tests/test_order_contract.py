"""The contract's "every user has exactly one last order (train or test)" as a row-level rule
of job 1: the orders that break it are quarantined, their lines follow them, and the ML
candidates hold each (user, product) once."""

from __future__ import annotations

from instacart_lake.context import Lake
from instacart_lake.delta import DeltaTableIO
from instacart_lake.ingest import ingest
from instacart_lake.jobs.raw_to_clean import run_raw_to_clean
from instacart_lake.transforms.features import build_feature_tables
from instacart_lake.transforms.ml_sets import build_candidates
from instacart_lake.transforms.order_contract import SECOND_LAST_ORDER, last_order_reasons

ROWS_SCHEMA = "order_id int, user_id int, eval_set string, reasons array<string>, duplicate string"
CLEAN_SCHEMA = "order_id int, user_id int, eval_set string"


def test_every_new_last_order_of_a_user_with_two_is_quarantined(spark):
    rows = spark.createDataFrame([
        (1, 1, "prior", [], None),
        (2, 1, "train", [], None),
        (3, 1, "train", [], None),
        (4, 2, "test", [], None),
        (5, 3, "train", [], None),
        (6, 3, "train", ["out_of_range:order_dow"], None),
        (7, 4, "train", [], None),
        (7, 4, "train", [], "exact"),
    ], ROWS_SCHEMA)

    reasons = {(row.order_id, row.duplicate): row.reasons for row in last_order_reasons(rows, None).collect()}

    assert reasons == {
        (1, None): [], (2, None): [SECOND_LAST_ORDER], (3, None): [SECOND_LAST_ORDER], (4, None): [],
        (5, None): [], (6, None): ["out_of_range:order_dow"], (7, None): [], (7, "exact"): [],
    }


def test_the_clean_table_counts_but_keeps_its_orders(spark):
    existing = spark.createDataFrame([(10, 1, "train"), (20, 2, "train"), (30, 3, "prior")], CLEAN_SCHEMA)
    rows = spark.createDataFrame([
        (11, 1, "train", [], None),
        (20, 2, "prior", [], None),
        (21, 2, "train", [], None),
        (31, 3, "test", [], None),
    ], ROWS_SCHEMA)

    checked = last_order_reasons(rows, existing)

    assert checked.columns == rows.columns
    assert sorted((row.order_id, row.reasons) for row in checked.collect()) == [
        (11, [SECOND_LAST_ORDER]), (20, []), (21, []), (31, [])]


SOURCES = {
    "aisles.csv": "aisle_id,aisle\n1,fresh fruits\n2,yogurt\n",
    "departments.csv": "department_id,department\n1,produce\n2,dairy eggs\n",
    "products.csv": "product_id,product_name,aisle_id,department_id\n1,Banana,1,1\n2,Strawberries,1,1\n"
                    "3,Greek Yogurt,2,2\n",
    "orders.csv": (
        "order_id,user_id,eval_set,order_number,order_dow,order_hour_of_day,days_since_prior_order\n"
        "1,1,prior,1,2,8,\n"
        "2,1,prior,2,3,7,15.0\n"
        "3,1,train,3,4,7,9.0\n"
        "4,1,train,4,4,9,3.0\n"
        "5,2,prior,1,1,9,\n"
        "6,2,prior,2,5,10,7.0\n"
        "7,2,prior,3,0,14,10.0\n"
        "8,2,train,4,1,9,6.0\n"
    ),
    "order_products__prior.csv": "order_id,product_id,add_to_cart_order,reordered\n"
                                 "1,1,1,0\n1,2,2,0\n2,1,1,1\n5,2,1,0\n5,3,2,0\n6,3,1,1\n7,2,1,1\n",
    "order_products__train.csv": "order_id,product_id,add_to_cart_order,reordered\n"
                                 "3,1,1,1\n4,2,1,1\n8,3,1,1\n8,1,2,0\n",
}


def test_a_user_with_two_train_orders_is_quarantined_and_gets_no_candidates(spark, lake: Lake, tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name, text in SOURCES.items():
        (source / name).write_text(text)
    ingest(lake, [str(source)], "jr_ingest")

    runs = {run.table.name: run for run in run_raw_to_clean(spark, lake, "jr_contract")}

    table_io = DeltaTableIO(spark)
    read = {name: table_io.read(lake.locations.table_uri("clean", name))
            for name in ("orders", "order_products__prior", "order_products__train", "products")}
    quarantine = {name: sorted((row.line_number, tuple(row.reasons)) for row in
                               table_io.read(lake.locations.quarantine_table_uri(name)).collect())
                  for name in ("orders", "order_products__train")}
    assert quarantine == {
        "orders": [(4, (SECOND_LAST_ORDER,)), (5, (SECOND_LAST_ORDER,))],
        "order_products__train": [(2, ("referenced_row_quarantined:order_id",)),
                                  (3, ("referenced_row_quarantined:order_id",))],
    }
    assert runs["orders"].quarantine_reasons == {SECOND_LAST_ORDER: 2}
    assert sorted(row.order_id for row in read["orders"].collect()) == [1, 2, 5, 6, 7, 8]
    assert sorted((row.order_id, row.product_id) for row in read["order_products__train"].collect()) == [
        (8, 1), (8, 3)]
    warned = [rule for rule in runs["orders"].counts()["rules"] if rule["outcome"] != "Passed"]
    assert [(rule["action"], rule["location"], rule["metrics"]) for rule in warned] == [
        ("warn", "orders.dqdl:16", {"Dataset.*.CustomSQL": 1.0})]

    features = build_feature_tables(read["orders"], read["order_products__prior"])
    candidates = build_candidates(read["orders"], read["order_products__train"], read["products"], **features)
    assert sorted((row.user_id, row.product_id, row.label) for row in candidates.collect()) == [(2, 2, 0), (2, 3, 1)]
