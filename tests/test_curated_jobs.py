"""The pipeline end to end on a tiny generated dataset, as the chain of events of the
orchestration definition (each job in its own process): the run goes through the handlers
the definition names, a second run on the same source changes nothing; from job 2 on, the
feature tables written to the curated zone equal the independent DuckDB reference computed
from the same clean Delta tables, the ML-ready sets hold every candidate exactly once, and
the model version trained on them scores every inference candidate, gives every test order
one basket and is evaluated on the validation users."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from deltalake import DeltaTable

from instacart_lake.cli import main
from instacart_lake.context import Lake
from instacart_lake.delta import DeltaTableIO
from instacart_lake.generate import generate_dataset, scale_named
from instacart_lake.locations import uri_to_path
from instacart_lake.ml.local_runner import LocalJobs, local_stage_settings
from instacart_lake.ml.model_card import load_model_card
from instacart_lake.ml.stage import score_model_version
from instacart_lake.orchestration import load_definition
from instacart_lake.reference.duckdb_features import candidates as reference_candidates
from instacart_lake.reference.duckdb_features import feature_tables as reference_feature_tables
from instacart_lake.runs import load_latest_run
from instacart_lake.serving import open_serving_store
from instacart_lake.transforms.features import FEATURE_KEYS
from instacart_lake.transforms.gold import GOLD_SCHEMAS

GLUE_JOBS = Path(__file__).resolve().parent.parent / "glue_jobs"


SMALL_SPARK = {"LAKE_SPARK_DRIVER_MEMORY": "2g", "LAKE_SPARK_SHUFFLE_PARTITIONS": "2"}
"""The Spark settings of the job processes on tiny data, as the test session's."""


@pytest.fixture(scope="module")
def pipeline(spark, tmp_path_factory):
    source = tmp_path_factory.mktemp("source")
    generate_dataset(source, scale_named("tiny"), 11)
    root = tmp_path_factory.mktemp("lake")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SMALL_SPARK.items():
            patch.setenv(name, value)
        assert main(["--lake-root", str(root), "run", "--source", str(source)]) == 0
        yield Lake.from_environment(root=root, profile="local"), source


def delta(lake: Lake, zone: str, name: str):
    return DeltaTable(uri_to_path(lake.locations.table_uri(zone, name)))


def lake_root(lake: Lake) -> str:
    return str(Path(uri_to_path(lake.locations.zone_uri("raw"))).parent)


def stages_of(lake: Lake) -> dict:
    return {stage.stage: stage for stage in load_latest_run(lake).stages}


def table_versions(lake: Lake) -> dict[str, int]:
    return {f"{zone}.{entry['Name']}": delta(lake, zone, entry["Name"]).version()
            for zone in ("clean", "curated", "ml") for entry in lake.catalog.get_tables(lake.locations.database(zone))}


def test_the_run_goes_through_the_handlers_that_the_definition_names(pipeline):
    lake, _ = pipeline
    definition = load_definition()
    record = load_latest_run(lake)

    assert [stage.stage for stage in record.stages] == definition.stage_names
    assert record.outcome == "succeeded"
    for before, stage in zip(record.stages, record.stages[1:]):
        kind = definition.events[definition.stage(stage.stage).started_by]
        assert (kind.detail_type or kind.event_name.removesuffix("*")) in stage.started_by, stage.stage
        assert before.next_step["status"] == "started" and before.next_step["stage"] == stage.stage, before.stage
        assert stage.state in ("SUCCEEDED", "Succeeded", "Completed") and stage.job_run_id, stage.stage
        assert stage.started_at <= stage.finished_at, stage.stage
    assert record.stages[-1].next_step == {"status": "chain_ended", "job": "export_serving"}
    assert len({stage.job_run_id for stage in record.stages[1:]}) == len(record.stages) - 1
    idempotency = json.loads(Path(uri_to_path(lake.locations.idempotency_uri)).read_text())
    assert len(idempotency) == len(record.stages)  # one record per event delivered to a handler


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
    keyed_validation = csv_rows("validation_ids")
    validation_orders = {r["order_id"]: r["user_id"] for r in written if r["ml_set"] == "validation"}
    assert sorted((int(row[0]), int(row[1])) for row in keyed_validation) == sorted(
        (r["order_id"], r["product_id"]) for r in written if r["ml_set"] == "validation")
    assert [row[2:] for row in sorted(keyed_validation)] != [] and len(keyed_validation[0]) == width + 1
    assert set(validation_orders.values()) == by_set["validation"]


def test_the_run_record_and_catalog_hold_both_jobs(pipeline):
    lake, _ = pipeline
    stages = {stage.stage: stage for stage in load_latest_run(lake).stages}
    assert stages["clean_to_curated"].outcome == "succeeded"
    assert stages["clean_to_curated"].tables["up_features"]["rows_written"] == delta(
        lake, "curated", "up_features").to_pyarrow_table().num_rows
    assert {rule["outcome"] for rule in stages["clean_to_curated"].tables["up_features"]["rules"]} == {"Passed"}
    assert set(stages["curated_to_ml"].details["read_versions"]) >= set(FEATURE_KEYS)
    curated = {table["Name"] for table in lake.catalog.get_tables(lake.locations.database("curated"))}
    assert curated == set(FEATURE_KEYS) | set(GOLD_SCHEMAS)
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


def test_the_model_version_scores_every_candidate_and_gives_every_test_order_one_basket(pipeline):
    lake, _ = pipeline
    stages = stages_of(lake)
    version = stages["train"].next_step["model_version"]
    candidates = delta(lake, "ml", "ml_candidates").to_pyarrow_table().to_pylist()
    inference = sorted((r["user_id"], r["product_id"]) for r in candidates if r["ml_set"] == "inference")
    scores = delta(lake, "curated", "reorder_scores").to_pyarrow_table().to_pylist()
    baskets = delta(lake, "curated", "next_basket").to_pyarrow_table().to_pylist()
    orders = delta(lake, "clean", "orders").to_pyarrow_table().to_pylist()

    assert sorted((r["user_id"], r["product_id"]) for r in scores) == inference
    assert sorted((r["order_id"], r["user_id"]) for r in baskets) == sorted(
        (r["order_id"], r["user_id"]) for r in orders if r["eval_set"] == "test")
    assert {r["model_version"] for r in scores + baskets} == {version}
    assert all(0 <= r["probability"] <= 1 for r in scores)
    assert all(r["products"] or r["includes_none"] for r in baskets)
    assert stages["gold_predictions"].tables["next_basket"]["rows_written"] == len(baskets)


def test_the_model_card_records_the_data_versions_and_the_evaluation(pipeline, capsys):
    lake, _ = pipeline
    stages = stages_of(lake)
    train, score = stages["train"].next_step, stages["gold_predictions"].details
    card = load_model_card(train["model_card_uri"])

    assert card.model_version == train["model_version"] == score["model_version"]
    sets_run_id = stages["curated_to_ml"].job_run_id
    assert card.data_versions == {"curated_to_ml_job_run_id": sets_run_id}
    [commit] = [entry for entry in delta(lake, "ml", "ml_candidates").history()
                if json.loads(entry.get("userMetadata") or "{}").get("run_id") == sets_run_id]
    assert commit["version"] == stages["curated_to_ml"].details["candidates_version"]
    assert set(card.metrics) >= {"validation_auc", "validation_logloss", "best_iteration"}
    evaluation = score["evaluation"]
    validation_orders = {r["order_id"] for r in delta(lake, "ml", "ml_candidates").to_pyarrow_table().to_pylist()
                         if r["ml_set"] == "validation"}
    assert evaluation["orders"] == len(validation_orders)
    for key in ("f1_threshold", "f1_expected_f1", "f1_oracle", "f1_last_order_reorders", "roc_auc"):
        assert 0 < evaluation[key] <= 1, key
    assert evaluation["threshold"] == 0.21
    stored = json.loads(Path(uri_to_path(score["evaluation_uri"])).read_text())
    assert stored == {"model_version": card.model_version, **evaluation}
    run_id = stages["gold_predictions"].job_run_id
    emf = [json.loads(line) for line in
           Path(uri_to_path(f"{lake.locations.runs_uri}/{run_id}.emf.jsonl")).read_text().splitlines()]
    [quality] = [record for record in emf if "ExpectedF1Score" in record]
    assert (quality["Stage"], quality["Run"]) == ("gold_predictions", run_id)
    assert quality["ExpectedF1Score"] == evaluation["f1_expected_f1"]
    assert quality["OracleF1Score"] == evaluation["f1_oracle"]
    assert {"Name": "ExpectedF1Score", "Unit": "None"} in quality["_aws"]["CloudWatchMetrics"][0]["Metrics"]

    assert main(["--lake-root", str(Path(uri_to_path(lake.locations.zone_uri("raw"))).parent),
                 "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    [scored] = [stage for stage in status["stages"] if stage["stage"] == "gold_predictions"]
    assert scored["details"]["evaluation"] == evaluation
    assert scored["details"]["model_version"] == card.model_version


def test_scoring_the_same_model_version_again_writes_the_same_files(pipeline):
    lake, _ = pipeline
    card = load_model_card(stages_of(lake)["train"].next_step["model_card_uri"])

    def score_files() -> dict[str, bytes]:
        folder = Path(uri_to_path(lake.locations.ml_scores_uri)) / f"model_version={card.model_version}"
        return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*.csv")}

    before = score_files()
    again = score_model_version(local_stage_settings(lake), LocalJobs(), card)

    assert set(again.set_uris) == {"inference", "validation"}
    assert score_files() == before
    assert {name.split("/")[0] for name in before} == {"inference", "validation"}


def test_the_glue_script_publishes_and_evaluates_a_scored_model_version_again(pipeline, monkeypatch):
    lake, _ = pipeline
    stages = stages_of(lake)
    card_uri = stages["train"].next_step["model_card_uri"]
    version = stages["train"].next_step["model_version"]
    before = delta(lake, "curated", "next_basket").to_pyarrow_table().to_pylist()
    scores = f"{lake.locations.ml_scores_uri}/model_version={version}"
    monkeypatch.setenv("LAKE_ROOT", str(Path(uri_to_path(lake.locations.zone_uri("raw"))).parent))
    spec = importlib.util.spec_from_file_location("gold_predictions_script", GLUE_JOBS / "gold_predictions.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    script.main(["gold_predictions.py", "--JOB_NAME", "gold_predictions", "--lake_profile", "local",
                 "--model_card_uri", card_uri, "--scores_uri", f"{scores}/inference",
                 "--validation_scores_uri", f"{scores}/validation"])

    assert delta(lake, "curated", "next_basket").to_pyarrow_table().to_pylist() == before
    stored = json.loads(Path(uri_to_path(stages["gold_predictions"].details["evaluation_uri"])).read_text())
    without_oracle = {**stages["gold_predictions"].details["evaluation"], "f1_oracle": None,
                      "expected_f1_to_oracle": None}
    assert stored == {"model_version": version, **without_oracle}


def test_a_run_from_the_train_stage_adds_a_second_model_version(pipeline):
    lake, source = pipeline
    root = str(Path(uri_to_path(lake.locations.zone_uri("raw"))).parent)
    first = stages_of(lake)["train"].next_step["model_version"]

    assert main(["--lake-root", root, "run", "--source", str(source), "--from", "curated_to_ml"]) == 0

    record = load_latest_run(lake)
    assert [stage.stage for stage in record.stages] == ["curated_to_ml", "train", "score", "gold_predictions",
                                                       "export_serving"]
    assert record.stages[0].started_by == "lake run --from"
    second = record.stages[1].next_step["model_version"]
    scores = delta(lake, "curated", "reorder_scores").to_pyarrow_table().to_pylist()
    assert second != first
    assert {r["model_version"] for r in scores} == {first, second}
    assert (sum(r["model_version"] == first for r in scores) == sum(r["model_version"] == second for r in scores)
            == record.stages[3].tables["reorder_scores"]["rows_written"])
    served = open_serving_store(lake).current()
    assert (served.model_version, served.users) == (second, record.stages[4].tables["serving.users"]["rows_written"])
    assert served.users == len(delta(lake, "curated", "next_basket").to_pyarrow_table().to_pylist()) // 2


def test_a_run_whose_first_stage_comes_after_its_last_is_refused(pipeline, capsys):
    lake, source = pipeline
    root = str(Path(uri_to_path(lake.locations.zone_uri("raw"))).parent)

    assert main(["--lake-root", root, "run", "--source", str(source), "--from", "score", "--until", "train"]) == 1

    assert "--from score comes after --until train" in capsys.readouterr().err


def test_a_run_from_the_score_stage_asks_for_the_stage_before_it(pipeline, capsys):
    lake, source = pipeline
    root = str(Path(uri_to_path(lake.locations.zone_uri("raw"))).parent)

    assert main(["--lake-root", root, "run", "--source", str(source), "--from", "score"]) == 1

    assert ("--from score: its processing job starts on the event of the stage before it; start from that stage"
            in capsys.readouterr().err)
    record = load_latest_run(lake)
    assert (record.outcome, record.stages) == ("failed", [])


def comparable(value):
    """A value as both Spark and Arrow hand it out: maps as sorted pairs, times as naive UTC."""
    if isinstance(value, dict):
        return sorted((key, comparable(item)) for key, item in value.items())
    if isinstance(value, list):
        items = [comparable(item) for item in value]
        return sorted(items) if items and isinstance(value[0], tuple) else items
    if isinstance(value, tuple):
        return tuple(comparable(item) for item in value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def arrow_rows(table, columns: list[str]) -> list[tuple]:
    return sorted((tuple(comparable(row[c]) for c in columns) for row in table.to_pylist()), key=repr)


def test_every_table_reads_the_same_through_delta_spark_delta_rs_and_duckdb(spark, pipeline):
    lake, _ = pipeline
    table_io = DeltaTableIO(spark)
    checked = []
    for zone in ("clean", "curated", "ml"):
        for entry in lake.catalog.get_tables(lake.locations.database(zone)):
            uri = lake.locations.table_uri(zone, entry["Name"])
            by_spark = table_io.read(uri)
            columns = by_spark.columns
            spark_rows = sorted((tuple(comparable(v) for v in row) for row in by_spark.collect()), key=repr)
            table = DeltaTable(uri_to_path(uri))
            assert arrow_rows(table.to_pyarrow_table(), columns) == spark_rows, uri
            protocol = table.protocol()
            assert (protocol.min_reader_version, protocol.min_writer_version) == (1, 2), uri
            assert not protocol.reader_features and not protocol.writer_features, uri
            if zone == "curated":
                connection = duckdb.connect()
                connection.register("snapshot", table.to_pyarrow_dataset())
                by_duckdb = connection.execute(f"select {', '.join(columns)} from snapshot").fetch_arrow_table()
                assert arrow_rows(by_duckdb, columns) == spark_rows, uri
            checked.append((zone, entry["Name"], len(spark_rows)))
    assert {name for zone, name, _ in checked if zone == "curated"} == set(FEATURE_KEYS) | set(GOLD_SCHEMAS)
    assert {"orders", "order_products__prior", "dq_results", "ml_candidates"} <= {name for _, name, _ in checked}
    # A quarantine table exists from its table's first run, empty when nothing was rejected.
    assert all(rows > 0 for _, name, rows in checked if not name.endswith("_quarantine"))


def test_a_job_killed_between_its_writes_leaves_every_table_at_a_committed_version(pipeline):
    """kill -9 of job 2 (driver and JVM) once its first feature table has data files but no
    commit: that table and the others stay at their previous versions with the same rows."""
    lake, _ = pipeline
    root = Path(uri_to_path(lake.locations.zone_uri("raw"))).parent
    curated = {name: delta(lake, "curated", name) for name in FEATURE_KEYS}
    before = {name: (table.version(), sorted_rows(table.to_pyarrow_table(), FEATURE_KEYS[name]))
              for name, table in curated.items()}
    data_files = {name: set(Path(uri_to_path(lake.locations.table_uri("curated", name))).rglob("*.parquet"))
                  for name in FEATURE_KEYS}
    job = subprocess.Popen(
        [sys.executable, str(GLUE_JOBS / "clean_to_curated.py"), "--JOB_NAME", "clean_to_curated",
         "--lake_profile", "local"],
        env={**os.environ, "LAKE_ROOT": str(root)}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    new_files = set()
    while not new_files and job.poll() is None and time.monotonic() < deadline:
        new_files = {name for name in FEATURE_KEYS
                     if set(Path(uri_to_path(lake.locations.table_uri("curated", name))).rglob("*.parquet"))
                     - data_files[name]}
        time.sleep(0.005)
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()

    assert new_files, "job 2 ended before it wrote a feature table's files"
    for name, (version, rows) in before.items():
        table = DeltaTable(uri_to_path(lake.locations.table_uri("curated", name)))
        assert table.version() == version, name
        assert sorted_rows(table.to_pyarrow_table(), FEATURE_KEYS[name]) == rows, name


def test_a_second_run_on_the_same_source_lands_nothing_and_changes_no_table(pipeline):
    lake, source = pipeline
    before = table_versions(lake)
    started = time.perf_counter()

    assert main(["--lake-root", lake_root(lake), "run", "--source", str(source)]) == 0

    seconds = time.perf_counter() - started
    [ingest] = load_latest_run(lake).stages
    assert (ingest.stage, ingest.tables, ingest.next_step) == ("ingest", {}, None)
    assert table_versions(lake) == before
    assert seconds < 30, f"a run with nothing new took {seconds:.1f} s"


def sorted_rows(table, keys) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda row: tuple(row[key] for key in keys))
