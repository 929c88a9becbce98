"""Job 1 end to end on generated data with known defects: every damaged line lands in the
quarantine with its reason, nothing undamaged is lost, counts reconcile, reruns change
nothing, a failed stop rule commits nothing, and a run that dies half-way is completed by
the next one."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from deltalake import DeltaTable

from instacart_lake import storage
from instacart_lake.cli import main
from instacart_lake.context import Lake
from instacart_lake.delta import DeltaTableIO
from instacart_lake.errors import QualityGateFailed
from instacart_lake.generate import generate_dataset, scale_named
from instacart_lake.ingest import ingest
from instacart_lake.jobs.quality_gate import RULESETS_DIR
from instacart_lake.jobs.raw_to_clean import run_raw_to_clean
from instacart_lake.locations import uri_to_path
from instacart_lake.runs import load_latest_run
from instacart_lake.schemas import SOURCE_TABLES

SEED = 7
GLUE_JOBS = Path(__file__).resolve().parent.parent / "glue_jobs"
EXPECTED_REASON = {
    "wrong_column_count": "wrong_column_count",
    "truncated_last_line": "wrong_column_count",
    "unparsable_number": "unparsable_number:{column}",
    "out_of_range": "out_of_range:{column}",
    "empty_key": "missing_value:{column}",
    "unknown_id": "unknown_{column}",
    "broken_utf8": "invalid_utf8",
    "invalid_eval_set": "invalid_value:eval_set",
    "days_on_first_order": "days_since_prior_on_first_order",
}
FOREIGN_KEY_REASONS = ("unknown_", "referenced_row_quarantined:")
SMALL_SPARK = {"LAKE_SPARK_DRIVER_MEMORY": "2g", "LAKE_SPARK_SHUFFLE_PARTITIONS": "2"}
"""The Spark settings of the job process on tiny data, as the test session's."""


def new_lake(root: Path) -> Lake:
    return Lake.from_environment(root=root, profile="local")


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    base = tmp_path_factory.mktemp("generated")
    generate_dataset(base / "damaged", scale_named("tiny"), SEED, defect_rate=0.02)
    generate_dataset(base / "clean", scale_named("tiny"), SEED)
    return base / "damaged", base / "clean"


@pytest.fixture(scope="module")
def loaded(spark, datasets, tmp_path_factory):
    """A lake after `lake run --until raw_to_clean` on the damaged dataset, and the job's
    counts per table from `lake status --json`."""
    damaged, _ = datasets
    root = tmp_path_factory.mktemp("lake")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SMALL_SPARK.items():
            patch.setenv(name, value)
        assert main(["--lake-root", str(root), "run", "--source", str(damaged), "--until", "raw_to_clean"]) == 0
    lake = new_lake(root)
    record = load_latest_run(lake)
    assert [(stage.stage, stage.outcome) for stage in record.stages] == [
        ("ingest", "succeeded"), ("crawl", "succeeded"), ("raw_to_clean", "succeeded")]
    return lake, record


def read_table(lake: Lake, name: str, columns=None) -> list[dict]:
    uri = lake.locations.table_uri("clean", name)
    return DeltaTable(uri_to_path(uri)).to_pyarrow_table(columns=columns).to_pylist()


def quarantined_lines(lake: Lake) -> dict[tuple[str, int], list[str]]:
    found = {}
    for table in SOURCE_TABLES:
        if storage.exists(lake.locations.quarantine_table_uri(table)):
            for row in read_table(lake, f"{table}_quarantine", ["source_file", "line_number", "reasons"]):
                found[(row["source_file"].rsplit("/", 1)[1], row["line_number"])] = row["reasons"]
    return found


def defects(damaged: Path) -> list[dict]:
    with (damaged / "defects.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_damaged_line_is_quarantined_with_its_reason(loaded, datasets):
    lake, _ = loaded
    quarantine = quarantined_lines(lake)
    listed = [d for d in defects(datasets[0]) if d["kind"] != "duplicate_row"]

    assert len(listed) > 50
    wrong = [(d, quarantine.get((d["file"], int(d["line"])))) for d in listed
             if EXPECTED_REASON[d["kind"]].format(column=d["column"])
             not in quarantine.get((d["file"], int(d["line"])), [])]
    assert wrong == []


def test_undamaged_lines_are_quarantined_only_when_their_parent_row_was_damaged(loaded, datasets):
    """A valid order line whose order row was damaged cannot be loaded (its foreign key has
    no clean row): it is quarantined with a foreign-key reason, and the key it points to is
    one that the undamaged data has and the clean table lost to damage."""
    lake, _ = loaded
    damaged, clean = datasets
    listed = {(d["file"], int(d["line"])) for d in defects(damaged)}
    undamaged_quarantined = {key: reasons for key, reasons in quarantined_lines(lake).items() if key not in listed}
    assert undamaged_quarantined, "the damage should cascade to some child rows"
    assert all(reason.startswith(FOREIGN_KEY_REASONS)
               for reasons in undamaged_quarantined.values() for reason in reasons)

    def keys(path: Path, column: str) -> set[int]:
        with path.open(newline="", encoding="utf-8") as handle:
            return {int(row[column]) for row in csv.DictReader(handle)}

    lost = {
        "order_id": keys(clean / "orders.csv", "order_id")
        - {row["order_id"] for row in read_table(lake, "orders", ["order_id"])},
        "product_id": keys(clean / "products.csv", "product_id")
        - {row["product_id"] for row in read_table(lake, "products", ["product_id"])},
        "aisle_id": keys(clean / "aisles.csv", "aisle_id")
        - {row["aisle_id"] for row in read_table(lake, "aisles", ["aisle_id"])},
        "department_id": keys(clean / "departments.csv", "department_id")
        - {row["department_id"] for row in read_table(lake, "departments", ["department_id"])},
    }
    lines = {name: (damaged / name).read_text(encoding="utf-8", errors="replace").splitlines()
             for name in {file for file, _ in undamaged_quarantined}}
    for (file, line), reasons in undamaged_quarantined.items():
        header = lines[file][0].split(",")
        row = dict(zip(header, next(csv.reader([lines[file][line - 1]]))))
        for reason in reasons:
            column = reason.removeprefix("referenced_row_quarantined:").removeprefix("unknown_")
            assert int(row[column]) in lost[column], (file, line, reason)


def job_stage(record):
    return next(stage for stage in record.stages if stage.stage == "raw_to_clean")


def job_counts(record) -> dict[str, dict]:
    return job_stage(record).tables


def test_counts_reconcile_with_the_source_files(loaded, datasets):
    lake, record = loaded
    damaged, _ = datasets
    duplicates = sum(d["kind"] == "duplicate_row" for d in defects(damaged))
    counts = job_counts(record)
    assert set(counts) == set(SOURCE_TABLES)
    for name, table in counts.items():
        raw_lines = sum(1 for _ in (damaged / f"{name}.csv").open("rb")) - 1
        assert table["raw_lines"] == raw_lines, name
        assert table["raw_lines"] == table["clean_rows"] + table["quarantined_lines"] + table["dropped_duplicates"]
        assert len(read_table(lake, name, list(SOURCE_TABLES[name].primary_key))) == table["clean_rows"]
        assert {rule["outcome"] for rule in table["rules"] if rule["action"] == "stop"} == {"Passed"}
    assert 0 < sum(table["dropped_duplicates"] for table in counts.values()) <= duplicates


def test_the_real_formatting_quirks_reach_the_clean_tables_as_values(loaded, datasets):
    lake, _ = loaded
    clean_rows = {row["order_id"]: row for row in read_table(lake, "orders")}
    with (datasets[1] / "orders.csv").open(newline="") as handle:
        source = list(csv.DictReader(handle))
    quirky = [r for r in source if r["order_hour_of_day"].startswith("0") or r["days_since_prior_order"].endswith(".0")]
    assert quirky
    for row in quirky:
        loaded_row = clean_rows.get(int(row["order_id"]))
        if loaded_row is None:  # damaged in the other copy
            continue
        assert loaded_row["order_hour_of_day"] == int(row["order_hour_of_day"])
        expected_days = None if row["days_since_prior_order"] == "" else int(float(row["days_since_prior_order"]))
        assert loaded_row["days_since_prior_order"] == expected_days


def test_tables_results_and_metrics_are_recorded(loaded):
    lake, record = loaded
    run_id = job_stage(record).job_run_id
    database = lake.locations.database("clean")
    names = {table["Name"] for table in lake.catalog.get_tables(database)}
    # every source table's quarantine is registered, also where nothing of it was rejected
    assert set(SOURCE_TABLES) | {f"{name}_quarantine" for name in SOURCE_TABLES} | {"dq_results"} <= names
    orders = lake.catalog.get_table(database, "orders")
    assert orders["Parameters"]["table_type"] == "DELTA"

    results = read_table(lake, "dq_results")
    assert {row["table_name"] for row in results} == set(SOURCE_TABLES)
    assert {row["run_id"] for row in results} == {run_id}
    assert all(row["outcome"] == "Passed" for row in results if row["action"] == "stop")

    emf = [json.loads(line) for line in storage.read_text(f"{lake.locations.runs_uri}/{run_id}.emf.jsonl").splitlines()]
    by_table = {metrics["Table"]: metrics for metrics in emf if "RowsIn" in metrics}
    assert set(by_table) == set(SOURCE_TABLES)
    orders = job_counts(record)["orders"]
    assert (by_table["orders"]["RowsIn"], by_table["orders"]["RowsOut"], by_table["orders"]["RowsQuarantined"]) == (
        orders["raw_lines"], orders["clean_rows"], orders["quarantined_lines"])
    assert by_table["orders"]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "InstacartLake"


def test_a_rerun_of_the_glue_script_over_the_same_input_changes_nothing(spark, loaded, monkeypatch):
    lake, _ = loaded
    table_io = DeltaTableIO(spark)
    before = {name: table_io.version(lake.locations.table_uri("clean", name)) for name in SOURCE_TABLES}
    monkeypatch.setenv("LAKE_ROOT", uri_to_path(lake.config.zone_uris["raw"]).removesuffix("/raw"))
    script = importlib.util.spec_from_file_location("raw_to_clean_script", GLUE_JOBS / "raw_to_clean.py")
    module = importlib.util.module_from_spec(script)
    script.loader.exec_module(module)

    module.main(["raw_to_clean.py", "--JOB_NAME", "raw_to_clean", "--lake_profile", "local",
                 "--JOB_RUN_ID", "jr_again"])

    assert {name: table_io.version(lake.locations.table_uri("clean", name)) for name in SOURCE_TABLES} == before
    emitted = [json.loads(line) for line in storage.read_text(f"{lake.locations.runs_uri}/jr_again.emf.jsonl")
               .splitlines()]
    assert {(record["Table"], record["RowsIn"], record["RowsOut"]) for record in emitted if "Table" in record} == {
        (name, 0, 0) for name in SOURCE_TABLES}
    assert not any("DataQualityScore" in record for record in emitted)


def test_a_failed_stop_rule_commits_nothing(spark, datasets, tmp_path):
    lake = new_lake(tmp_path / "lake")
    ingest(lake, [str(datasets[1])], "jr_ingest")
    rulesets = tmp_path / "rulesets"
    shutil.copytree(RULESETS_DIR / "clean", rulesets)
    (rulesets / "orders.dqdl").write_text('Rules = [\n    RowCount > 1000000000\n]\n')

    with pytest.raises(QualityGateFailed, match=r"orders: RowCount > 1000000000"):
        run_raw_to_clean(spark, lake, "jr_stopped", rulesets_dir=rulesets)

    assert not storage.exists(lake.locations.table_uri("clean", "orders"))
    assert not storage.exists(lake.locations.table_uri("clean", "aisles"))
    assert storage.exists(lake.locations.table_uri("clean", "dq_results"))
    assert not storage.exists(lake.locations.ledger_uri("raw_to_clean"))


def test_a_run_that_dies_half_way_is_completed_by_the_next(spark, datasets, tmp_path):
    lake = new_lake(tmp_path / "lake")
    ingest(lake, [str(datasets[0])], "jr_ingest")
    blocker = Path(uri_to_path(lake.locations.quarantine_table_uri("order_products__prior")))
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a table: the write of this quarantine fails")

    with pytest.raises(Exception):
        run_raw_to_clean(spark, lake, "jr_dies")
    table_io = DeltaTableIO(spark)
    assert table_io.version(lake.locations.table_uri("clean", "orders")) == 0
    assert table_io.exists(lake.locations.table_uri("clean", "order_products__prior"))
    ledger = json.loads(storage.read_text(lake.locations.ledger_uri("raw_to_clean")))["processed"]
    assert {entry["table"] for entry in ledger.values()} == {"aisles", "departments", "products", "orders"}

    blocker.unlink()
    runs = {run.table.name: run for run in run_raw_to_clean(spark, lake, "jr_completes")}

    assert [name for name, run in runs.items() if run.files] == ["order_products__prior", "order_products__train"]
    reference = new_lake(tmp_path / "reference")
    ingest(reference, [str(datasets[0])], "jr_ingest")
    run_raw_to_clean(spark, reference, "jr_reference")
    for name in SOURCE_TABLES:
        assert sorted(map(str, read_table(lake, name))) == sorted(map(str, read_table(reference, name))), name
    assert table_io.version(lake.locations.table_uri("clean", "order_products__prior")) == 1


def test_each_table_records_where_its_time_went(loaded):
    """The job's results keep the seconds of each phase of each table (the profile per phase)."""
    _, record = loaded
    for name, counts in job_counts(record).items():
        phases = counts["phase_seconds"]
        assert set(phases) == {"prepare", "gate", "commit"}, name
        assert all(seconds > 0 for seconds in phases.values()), name
