"""Jobs 2 and 3 end to end on a tiny generated dataset: the feature tables written to the
curated zone equal the independent DuckDB reference computed from the same clean Delta
tables, and the ML-ready sets hold every candidate exactly once."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest
from deltalake import DeltaTable

from instacart_lake.cli import main
from instacart_lake.context import Lake
from instacart_lake.generate import generate_dataset, scale_named
from instacart_lake.locations import uri_to_path
from instacart_lake.reference.duckdb_features import candidates as reference_candidates
from instacart_lake.reference.duckdb_features import feature_tables as reference_feature_tables
from instacart_lake.runs import load_latest_run
from instacart_lake.transforms.features import FEATURE_KEYS

GLUE_JOBS = Path(__file__).resolve().parent.parent / "glue_jobs"


@pytest.fixture(scope="module")
def pipeline(spark, tmp_path_factory):
    source = tmp_path_factory.mktemp("source")
    generate_dataset(source, scale_named("tiny"), 11)
    root = tmp_path_factory.mktemp("lake")
    assert main(["--lake-root", str(root), "run", "--source", str(source), "--until", "curated_to_ml"]) == 0
    return Lake.from_environment(root=root, profile="local"), source


def delta(lake: Lake, zone: str, name: str):
    return DeltaTable(uri_to_path(lake.locations.table_uri(zone, name)))


def sorted_rows(table, keys) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda row: tuple(row[key] for key in keys))


def test_feature_tables_equal_the_duckdb_reference(pipeline):
    lake, _ = pipeline
    orders = delta(lake, "clean", "orders").to_pyarrow_table()
    prior = delta(lake, "clean", "order_products__prior").to_pyarrow_table()
    reference = reference_feature_tables(orders, prior)
    for name, keys in FEATURE_KEYS.items():
        written = delta(lake, "curated", name).to_pyarrow_table()
        assert written.num_rows == reference[name].num_rows > 0, name
        for got, expected in zip(sorted_rows(written, keys), sorted_rows(reference[name], keys)):
            assert got.keys() == expected.keys(), name
            for column, value in expected.items():
                assert got[column] == pytest.approx(value, rel=1e-12, abs=1e-12), (name, column, got)


def test_the_ml_sets_hold_every_candidate_once(pipeline):
    lake, source = pipeline
    tables = {name: delta(lake, "clean", name).to_pyarrow_table()
              for name in ("orders", "order_products__prior", "order_products__train", "products")}
    reference = reference_candidates(tables["orders"], tables["order_products__prior"],
                                     tables["order_products__train"], tables["products"])
    written = delta(lake, "ml", "ml_candidates").to_pyarrow_table().to_pylist()

    assert sorted((r["user_id"], r["product_id"], r["label"]) for r in written) == sorted(
        (r["user_id"], r["product_id"], r["label"]) for r in reference.to_pylist())
    with (source / "ground_truth.csv").open(newline="") as handle:
        truth = {(int(r["user_id"]), int(r["product_id"])) for r in csv.DictReader(handle)}
    assert {(r["user_id"], r["product_id"]) for r in written} == truth
    by_set = {}
    for row in written:
        by_set.setdefault(row["ml_set"], set()).add(row["user_id"])
    assert set(by_set) == {"train", "validation", "inference"}
    assert not by_set["train"] & by_set["validation"]

    def csv_rows(name: str) -> list[list[str]]:
        folder = Path(uri_to_path(lake.locations.ml_set_uri(name)))
        return [row for part in sorted(folder.glob("part-*.csv")) for row in csv.reader(part.open())]

    counts = {name: sum(1 for r in written if r["ml_set"] == name) for name in by_set}
    assert {name: len(csv_rows(name)) for name in by_set} == counts
    width = len(csv_rows("train")[0])
    assert {row[0] for row in csv_rows("train") + csv_rows("validation")} <= {"0", "1"}
    assert len(csv_rows("inference")[0]) == width + 1  # order_id and product_id instead of the label


def test_the_run_record_and_catalog_hold_both_jobs(pipeline):
    lake, _ = pipeline
    stages = {stage.stage: stage for stage in load_latest_run(lake).stages}
    assert stages["clean_to_curated"].outcome == "succeeded"
    assert stages["clean_to_curated"].tables["up_features"]["rows_written"] == delta(
        lake, "curated", "up_features").to_pyarrow_table().num_rows
    assert {rule["outcome"] for rule in stages["clean_to_curated"].tables["up_features"]["rules"]} == {"Passed"}
    assert set(stages["curated_to_ml"].details["read_versions"]) >= set(FEATURE_KEYS)
    curated = {table["Name"] for table in lake.catalog.get_tables(lake.locations.database("curated"))}
    assert curated == set(FEATURE_KEYS)
    ml_table = lake.catalog.get_table(lake.locations.database("ml"), "ml_candidates")
    assert [key["Name"] for key in ml_table["PartitionKeys"]] == ["ml_set"]


def test_the_glue_script_of_job_2_rewrites_the_same_tables(pipeline, monkeypatch):
    lake, _ = pipeline
    before = delta(lake, "curated", "prd_features").to_pyarrow_table()
    monkeypatch.setenv("LAKE_ROOT", str(Path(uri_to_path(lake.locations.zone_uri("raw"))).parent))
    spec = importlib.util.spec_from_file_location("clean_to_curated_script", GLUE_JOBS / "clean_to_curated.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    script.main(["clean_to_curated.py", "--JOB_NAME", "clean_to_curated", "--lake_profile", "local"])

    after = delta(lake, "curated", "prd_features")
    assert after.version() == 1
    assert sorted_rows(after.to_pyarrow_table(), ["product_id"]) == sorted_rows(before, ["product_id"])
