"""Publishing a model version's scores as the gold tables reorder_scores and next_basket."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable

from instacart_lake.delta import DeltaTableIO
from instacart_lake.errors import QualityGateFailed
from instacart_lake.jobs.publish_predictions import run_publish_predictions
from instacart_lake.locations import uri_to_path
from instacart_lake.metrics.f1 import optimal_prediction
from instacart_lake.query import find_query, run_query
from instacart_lake.registration import register_delta_table
from instacart_lake.schemas import SOURCE_TABLES
from instacart_lake.serving.gold_tables import read_gold

ORDERS = [  # order_id, user_id, eval_set
    (1, 1, "prior"), (10, 1, "test"),
    (2, 2, "prior"), (11, 2, "test"),
    (3, 3, "prior"), (12, 3, "test"),   # user 3 has no candidate left
    (4, 4, "prior"), (13, 4, "train"),
]
INFERENCE_CANDIDATES = [(10, 1, 100), (10, 1, 101), (10, 1, 102), (11, 2, 200)]
SCORES = [(10, 100, 0.9), (10, 101, 0.8), (10, 102, 0.05), (11, 200, 0.02)]


def write_inputs(spark, lake) -> None:
    table_io = DeltaTableIO(spark)
    orders = spark.createDataFrame(ORDERS, "order_id int, user_id int, eval_set string")
    table_io.write(orders, lake.locations.table_uri("clean", "orders"), mode="overwrite",
                   run_id="setup", job_name="test")
    candidates = spark.createDataFrame(
        [(*row, "inference") for row in INFERENCE_CANDIDATES] + [(13, 4, 400, "validation")],
        "order_id int, user_id int, product_id int, ml_set string")
    table_io.write(candidates, lake.locations.table_uri("ml", "ml_candidates"), mode="overwrite",
                   run_id="setup", job_name="test", partition_by=["ml_set"])


def write_scores(lake, model_version: str, rows) -> str:
    uri = f"{lake.locations.ml_scores_uri}/model_version={model_version}/inference"
    folder = Path(uri_to_path(uri))
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["order_id,product_id,probability,model_version"]
    lines += [f"{order},{product},{probability},{model_version}" for order, product, probability in rows]
    (folder / "part-00000.csv").write_text("\n".join(lines) + "\n")
    return uri


def gold(lake, name: str) -> list[dict]:
    table = DeltaTable(uri_to_path(lake.locations.table_uri("curated", name))).to_pyarrow_table()
    return sorted(table.to_pylist(), key=lambda row: (row["model_version"], row.get("order_id") or 0,
                                                      row["user_id"], row.get("product_id") or 0))


def test_every_candidate_gets_its_score_and_every_test_order_one_basket(spark, lake):
    write_inputs(spark, lake)
    uri = write_scores(lake, "reorder-v1", SCORES)

    runs = run_publish_predictions(spark, lake, "run-1", "reorder-v1", uri)

    assert {run.name: run.rows_written for run in runs} == {"reorder_scores": 4, "next_basket": 3}
    scores = gold(lake, "reorder_scores")
    assert [(r["user_id"], r["product_id"], r["probability"], r["model_version"]) for r in scores] == [
        (1, 100, 0.9, "reorder-v1"), (1, 101, 0.8, "reorder-v1"), (1, 102, 0.05, "reorder-v1"),
        (2, 200, 0.02, "reorder-v1")]
    assert len({r["scored_at"] for r in gold(lake, "reorder_scores")}) == 1
    baskets = {r["order_id"]: r for r in gold(lake, "next_basket")}
    assert {order: (r["user_id"], r["products"], r["includes_none"]) for order, r in baskets.items()} == {
        10: (1, [100, 101], False),
        11: (2, [], True),
        12: (3, [], True),   # no candidate: None alone, for certain
    }
    assert baskets[10]["expected_f1"] == pytest.approx(optimal_prediction([0.9, 0.8, 0.05]).expected_f1)
    assert baskets[11]["expected_f1"] == pytest.approx(0.98)
    assert baskets[12]["expected_f1"] == 1.0
    catalog_table = lake.catalog.get_table(lake.locations.database("curated"), "next_basket")
    assert [key["Name"] for key in catalog_table["PartitionKeys"]] == ["model_version"]


def test_publishing_a_model_version_again_replaces_only_its_rows(spark, lake):
    write_inputs(spark, lake)
    first = run_publish_predictions(spark, lake, "run-1", "reorder-v1", write_scores(lake, "reorder-v1", SCORES))
    before = {name: gold(lake, name) for name in ("reorder_scores", "next_basket")}
    other = [(order, product, round(1 - probability, 2)) for order, product, probability in SCORES]
    run_publish_predictions(spark, lake, "run-2", "reorder-v2", write_scores(lake, "reorder-v2", other))

    again = run_publish_predictions(spark, lake, "run-3", "reorder-v1", write_scores(lake, "reorder-v1", SCORES))

    assert [run.version for run in again] == [run.version + 2 for run in first]
    after = {name: gold(lake, name) for name in ("reorder_scores", "next_basket")}
    assert {r["model_version"] for r in after["reorder_scores"]} == {"reorder-v1", "reorder-v2"}
    without_time = [{k: v for k, v in row.items() if k != "scored_at"} for row in after["reorder_scores"]
                    if row["model_version"] == "reorder-v1"]
    assert without_time == [{k: v for k, v in row.items() if k != "scored_at"} for row in before["reorder_scores"]]
    assert [r for r in after["next_basket"] if r["model_version"] == "reorder-v1"] == before["next_basket"]


def test_a_candidate_without_a_score_stops_the_publication(spark, lake):
    write_inputs(spark, lake)
    uri = write_scores(lake, "reorder-v1", SCORES[1:])

    with pytest.raises(QualityGateFailed, match="reorder_scores: CustomSql"):
        run_publish_predictions(spark, lake, "run-1", "reorder-v1", uri)

    assert not DeltaTableIO(spark).exists(lake.locations.table_uri("curated", "reorder_scores"))



PRODUCT_TABLES = {"aisles": [(1, "dairy")], "departments": [(1, "dairy eggs")],
                  "products": [(100, "Milk", 1, 1), (101, "Eggs", 1, 1), (102, "Butter", 1, 1), (200, "Tea", 1, 1)]}
PUBLISH_KILLED = """
import sys
from instacart_lake.context import Lake
from instacart_lake.jobs.publish_predictions import run_publish_predictions
from instacart_lake.runtime import build_local_spark

lake = Lake.from_environment(root=sys.argv[1], profile="local")
spark = build_local_spark("publish-killed", driver_memory="1g", shuffle_partitions=2)
run_publish_predictions(spark, lake, "run-killed", sys.argv[2], sys.argv[3])
"""


def write_product_tables(spark, lake) -> None:
    """The clean tables that user_next_basket joins the baskets with."""
    for name, rows in PRODUCT_TABLES.items():
        table = SOURCE_TABLES[name]
        DeltaTableIO(spark).write(spark.createDataFrame(rows, table.spark_schema()),
                                  lake.locations.table_uri("clean", name), mode="overwrite",
                                  run_id="setup", job_name="test")
        register_delta_table(lake, "clean", name, table.spark_schema(), table.grain)


def model_versions(lake, name: str) -> set[str]:
    return {row["model_version"] for row in gold(lake, name)}


def served_versions(lake) -> dict[str, set[str]]:
    """The model version each reader of the gold tables reads: the serving export's, and the
    named queries'."""
    basket = run_query(lake, find_query("user_next_basket"), {"user_id": "1"}).records()
    quality = run_query(lake, find_query("model_quality_by_version"), {}).records()
    return {"export": {read_gold(lake, None)[0]}, "user_next_basket": {row["model_version"] for row in basket},
            "model_quality_by_version": {row["model_version"] for row in quality}}


def test_a_publication_killed_between_the_two_tables_is_never_read_and_the_next_one_removes_it(spark, lake):
    write_inputs(spark, lake)
    write_product_tables(spark, lake)
    run_publish_predictions(spark, lake, "run-1", "reorder-v1", write_scores(lake, "reorder-v1", SCORES))
    lower = [(order, product, round(probability / 2, 3)) for order, product, probability in SCORES]
    root = Path(uri_to_path(lake.locations.zone_uri("raw"))).parent

    killed = subprocess.run([sys.executable, "-c", PUBLISH_KILLED, str(root), "reorder-v2",
                             write_scores(lake, "reorder-v2", lower)],
                            env={**os.environ, "LAKE_FAILPOINT": "gold.between_tables"}, start_new_session=True,
                            capture_output=True, text=True, timeout=900)

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert model_versions(lake, "reorder_scores") == {"reorder-v1", "reorder-v2"}
    assert model_versions(lake, "next_basket") == {"reorder-v1"}
    assert served_versions(lake) == {"export": {"reorder-v1"}, "user_next_basket": {"reorder-v1"},
                                     "model_quality_by_version": {"reorder-v1"}}

    runs = run_publish_predictions(spark, lake, "run-3", "reorder-v3", write_scores(lake, "reorder-v3", SCORES))

    assert [run.name for run in runs] == ["reorder_scores", "next_basket"]
    assert model_versions(lake, "reorder_scores") == {"reorder-v1", "reorder-v3"}
    assert model_versions(lake, "next_basket") == {"reorder-v1", "reorder-v3"}
    assert served_versions(lake) == {"export": {"reorder-v3"}, "user_next_basket": {"reorder-v3"},
                                     "model_quality_by_version": {"reorder-v1", "reorder-v3"}}
    history = DeltaTableIO(spark).history(lake.locations.table_uri("curated", "reorder_scores"))
    assert [entry["run_id"] for entry in history] == ["run-3", "run-killed", "run-1"]
