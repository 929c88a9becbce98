"""The DuckDB reference of job 1 (instacart_lake.reference.duckdb_clean) against job 1 itself,
line for line on generated data with defects, and against expected outcomes written here."""

from __future__ import annotations

from pathlib import Path

import pytest
from deltalake import DeltaTable

from instacart_lake.cli import main
from instacart_lake.context import Lake
from instacart_lake.generate import generate_dataset, scale_named
from instacart_lake.locations import uri_to_path
from instacart_lake.reference.duckdb_clean import clean_tables
from instacart_lake.runs import load_latest_run
from instacart_lake.schemas import SOURCE_TABLES

SMALL_SPARK = {"LAKE_SPARK_DRIVER_MEMORY": "2g", "LAKE_SPARK_SHUFFLE_PARTITIONS": "2"}


def sources(folder: Path) -> dict[str, Path]:
    return {name: folder / table.file_name for name, table in SOURCE_TABLES.items()}


@pytest.fixture(scope="module")
def both(spark, tmp_path_factory):
    """Job 1 (`lake run --until raw_to_clean`) and the reference on the same damaged files."""
    damaged = tmp_path_factory.mktemp("generated") / "damaged"
    generate_dataset(damaged, scale_named("tiny"), 3, defect_rate=0.03)
    root = tmp_path_factory.mktemp("lake")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SMALL_SPARK.items():
            patch.setenv(name, value)
        assert main(["--lake-root", str(root), "run", "--source", str(damaged), "--until", "raw_to_clean"]) == 0
    lake = Lake.from_environment(root=root, profile="local")
    stage = next(s for s in load_latest_run(lake).stages if s.stage == "raw_to_clean")
    return lake, stage.tables, clean_tables(sources(damaged), threads=2)


def delta_rows(uri: str, columns: list[str]) -> list[dict]:
    return DeltaTable(uri_to_path(uri)).to_pyarrow_table(columns=columns).to_pylist()


@pytest.mark.parametrize("name", list(SOURCE_TABLES))
def test_the_reference_has_job_1s_counts_and_quarantine(both, name):
    lake, counts, reference = both
    outcome = reference[name]
    job = delta_rows(lake.locations.quarantine_table_uri(name), ["line_number", "reasons"])

    assert (outcome.clean_rows, outcome.dropped_duplicates, outcome.quarantine.num_rows) == (
        counts[name]["clean_rows"], counts[name]["dropped_duplicates"], counts[name]["quarantined_lines"])
    assert sorted((row["line_number"], tuple(row["reasons"])) for row in outcome.quarantine.to_pylist()) == \
        sorted((row["line_number"], tuple(sorted(row["reasons"]))) for row in job)


def test_the_defects_reach_every_kind_of_reason(both):
    """The comparison means something: the damage gives parse, foreign-key and duplicate outcomes."""
    _, _, reference = both
    reasons = {reason.split(":")[0] for outcome in reference.values()
               for reasons in outcome.quarantine.column("reasons").to_pylist() for reason in reasons}
    assert {"wrong_column_count", "unparsable_number", "missing_value", "invalid_utf8",
            "unknown_order_id", "referenced_row_quarantined"} <= reasons
    assert sum(outcome.dropped_duplicates for outcome in reference.values()) > 0


@pytest.mark.parametrize("name", list(SOURCE_TABLES))
def test_the_reference_has_job_1s_clean_rows(both, name):
    lake, _, reference = both
    columns = list(SOURCE_TABLES[name].column_names)
    job = delta_rows(lake.locations.table_uri("clean", name), columns)
    assert sorted(tuple(row.values()) for row in reference[name].clean.to_pylist()) == \
        sorted(tuple(row[c] for c in columns) for row in job)


HAND_WRITTEN = {
    "aisles.csv": b"aisle_id,aisle\n1,fresh  fruits\n2,yogurt\r\n",
    "departments.csv": b"department_id,department\n1,produce\n2,dairy eggs\n",
    "products.csv": (b"product_id,product_name,aisle_id,department_id\n"
                     b'1,"Banana, Organic",1,1\n'
                     b"2,Strawberries,1,1\n"
                     b"2,Strawberries,01,1\n"       # an exact copy of line 3 (01 is 1)
                     b"3,Greek Yogurt,2,2\n"
                     b"3,Plain Yogurt,2,2\n"        # another row with key 3: duplicate_key
                     b"4,Mystery,9,2\n"),           # no aisle 9: unknown_aisle_id
    "orders.csv": (b"order_id,user_id,eval_set,order_number,order_dow,order_hour_of_day,days_since_prior_order\n"
                   b"1,1,prior,1,2,8,\n"
                   b"2,1,train,2,3,7,15.0\n"
                   b"3,1,test,3,4,7,9.0\n"         # user 1's second last order: both quarantined
                   b"4,2,prior,1,1,9,\n"
                   b"5,2,train,2,5,10,x\n"),       # unparsable
    "order_products__prior.csv": b"order_id,product_id,add_to_cart_order,reordered\n1,1,1,0\n4,2,1,0\n4,7,2,0\n",
    "order_products__train.csv": b"order_id,product_id,add_to_cart_order,reordered\n2,1,1,1\n1,2,1,0\n5,3,1,0\n",
}


def test_hand_written_cases(tmp_path):
    for name, text in HAND_WRITTEN.items():
        (tmp_path / name).write_bytes(text)

    outcomes = clean_tables(sources(tmp_path))

    quarantine = {name: [(row["line_number"], row["reasons"]) for row in outcome.quarantine.to_pylist()]
                  for name, outcome in outcomes.items()}
    assert quarantine == {
        "aisles": [], "departments": [],
        "products": [(6, ["duplicate_key"]), (7, ["unknown_aisle_id"])],
        "orders": [(3, ["second_last_order:eval_set"]), (4, ["second_last_order:eval_set"]),
                   (6, ["unparsable_number:days_since_prior_order"])],
        "order_products__prior": [(4, ["unknown_product_id"])],
        "order_products__train": [(2, ["referenced_row_quarantined:order_id"]),
                                  (3, ["order_eval_set_mismatch"]),
                                  (4, ["referenced_row_quarantined:order_id"])],
    }
    assert outcomes["products"].dropped_duplicates == 1
    assert sorted(outcomes["aisles"].clean.to_pylist(), key=lambda row: row["aisle_id"]) == [
        {"aisle_id": 1, "aisle": "fresh fruits"}, {"aisle_id": 2, "aisle": "yogurt"}]
    assert sorted(outcomes["products"].clean.to_pylist(), key=lambda row: row["product_id"]) == [
        {"product_id": 1, "product_name": "Banana, Organic", "aisle_id": 1, "department_id": 1},
        {"product_id": 2, "product_name": "Strawberries", "aisle_id": 1, "department_id": 1},
        {"product_id": 3, "product_name": "Greek Yogurt", "aisle_id": 2, "department_id": 2}]
    assert sorted(outcomes["orders"].clean.column("order_id").to_pylist()) == [1, 4]
    assert outcomes["order_products__prior"].clean.to_pylist() == [
        {"order_id": 1, "product_id": 1, "add_to_cart_order": 1, "reordered": 0},
        {"order_id": 4, "product_id": 2, "add_to_cart_order": 1, "reordered": 0}]
    assert outcomes["order_products__prior"].quarantine.column("raw_bytes").to_pylist() == [b"4,7,2,0"]
