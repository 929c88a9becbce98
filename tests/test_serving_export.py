"""The export_serving job: the gold tables of a model version (the newest unless named) and
the products exported to the serving store, by the Glue job script as `lake run` starts it,
into the embedded store and into DynamoDB on moto."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from serving_samples import NEW_VERSION, OLD_VERSION, write_gold_lake

from instacart_lake.config import load_config
from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.jobs.export_serving import run_export_serving
from instacart_lake.locations import uri_to_path
from instacart_lake.serving import PRODUCT, USER, open_serving_store
from instacart_lake.serving.dynamodb import ATTRIBUTE_DEFINITIONS, KEY_SCHEMA, DynamoDBServingStore

GLUE_JOBS = Path(__file__).resolve().parents[1] / "glue_jobs"
NEW_USER_7 = {"user_id": 7, "order_id": 70, "includes_none": False, "expected_f1": 0.61,
              "basket": [{"product_id": 2, "product_name": "Organic Strawberries"},
                         {"product_id": 1, "product_name": "Banana"}],
              "scores": [[2, 0.7], [1, 0.4], [3, 0.123457]]}
NEW_USER_8 = {"user_id": 8, "order_id": 80, "includes_none": True, "expected_f1": 1.0, "basket": [], "scores": []}
PRODUCTS = {1: {"product_id": 1, "product_name": "Banana", "aisle": "fresh fruits", "department": "produce"},
            2: {"product_id": 2, "product_name": "Organic Strawberries", "aisle": "fresh fruits",
                "department": "produce"},
            3: {"product_id": 3, "product_name": "Sparkling Water", "aisle": "water seltzer",
                "department": "beverages"},
            4: {"product_id": 4, "product_name": "Dish Soap", "aisle": None, "department": None}}


def export_script():
    spec = importlib.util.spec_from_file_location("export_serving_script", GLUE_JOBS / "export_serving.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_the_glue_job_exports_the_newest_model_version_to_the_embedded_store(lake, monkeypatch):
    write_gold_lake(lake)
    monkeypatch.setenv("LAKE_ROOT", str(Path(uri_to_path(lake.locations.zone_uri("raw"))).parent))

    results = export_script().main(["export_serving.py", "--JOB_NAME", "export_serving", "--lake_profile", "local",
                                    "--JOB_RUN_ID", "jr_export"])

    store = open_serving_store(lake)
    pointer = store.current()
    assert (pointer.model_version, pointer.users, pointer.products) == (NEW_VERSION, 2, 4)
    assert store.get_many(USER, [7, 8, 9], NEW_VERSION) == {7: NEW_USER_7, 8: NEW_USER_8}
    assert store.get_many(PRODUCT, range(1, 6), NEW_VERSION) == PRODUCTS
    recorded = json.loads(Path(uri_to_path(lake.locations.job_results_uri("jr_export"))).read_text())
    assert recorded == results == {
        "tables": {"serving.users": {"rows_written": 2}, "serving.products": {"rows_written": 4}},
        "details": {"serving_model_version": NEW_VERSION, "exported_at": pointer.exported_at}}


def test_a_named_model_version_is_exported_and_becomes_current(lake):
    write_gold_lake(lake)
    store = open_serving_store(lake)
    run_export_serving(lake, store)

    pointer = run_export_serving(lake, store, OLD_VERSION)

    assert store.current() == pointer and (pointer.model_version, pointer.users) == (OLD_VERSION, 1)
    assert store.get(USER, 7, OLD_VERSION)["scores"] == [[3, 0.5], [1, 0.2]]
    assert store.get(USER, 8, OLD_VERSION) is None
    assert store.get(USER, 8, NEW_VERSION) == NEW_USER_8


def test_an_unknown_model_version_or_missing_gold_tables_are_one_line_errors(lake):
    store = open_serving_store(lake)
    with pytest.raises(LakeError, match="next_basket: no Delta table; the gold_predictions stage publishes it"):
        run_export_serving(lake, store)
    write_gold_lake(lake)

    with pytest.raises(LakeError, match=f"no partition of model version reorder-x; the table has {OLD_VERSION}, "
                                        f"{NEW_VERSION}"):
        run_export_serving(lake, store, "reorder-x")
    assert store.current() is None


def test_the_export_to_dynamodb_writes_the_same_items(lake, monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    write_gold_lake(lake)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(TableName="serving", KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRIBUTE_DEFINITIONS,
                            BillingMode="PAY_PER_REQUEST")
        store = DynamoDBServingStore(client, "serving")

        pointer = run_export_serving(lake, store)

        assert store.current() == pointer and pointer.model_version == NEW_VERSION
        assert store.get_many(USER, [7, 8], NEW_VERSION) == {7: NEW_USER_7, 8: NEW_USER_8}
        assert store.get_many(PRODUCT, range(1, 5), NEW_VERSION) == PRODUCTS
        assert client.scan(TableName="serving", Select="COUNT")["Count"] == 2 + 4 + 1


def test_the_aws_profile_needs_the_serving_table():
    with pytest.raises(LakeError, match="SERVING_TABLE .* or --serving_table"):
        open_serving_store(Lake(load_config(profile="aws", environ={})))
