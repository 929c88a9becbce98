"""The serving store: the items of a model version from its gold tables, both stores (the
embedded SQLite file and DynamoDB on moto) behind one contract, and readers during an export
seeing one complete model version only."""

from __future__ import annotations

import json
import threading

import boto3
import pyarrow as pa
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from instacart_lake.serving import PRODUCT, USER, Item, Pointer, export_version
from instacart_lake.serving.documents import product_items, user_items
from instacart_lake.serving.dynamodb import ATTRIBUTE_DEFINITIONS, KEY_SCHEMA, DynamoDBServingStore
from instacart_lake.serving.embedded import EmbeddedServingStore

REGION = "eu-west-1"
TABLE = "instacart-lake-serving"


def create_serving_table(client) -> None:
    client.create_table(TableName=TABLE, KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRIBUTE_DEFINITIONS,
                        BillingMode="PAY_PER_REQUEST")


@pytest.fixture
def aws_credentials(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def dynamodb(aws_credentials):
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_serving_table(client)
        yield client


@pytest.fixture(params=["embedded", "dynamodb"])
def store(request, tmp_path):
    if request.param == "embedded":
        return EmbeddedServingStore(tmp_path / "_meta" / "serving.sqlite", batch_items=10)
    return DynamoDBServingStore(request.getfixturevalue("dynamodb"), TABLE, writers=4)


def test_a_user_item_holds_the_basket_with_names_and_the_scores_most_probable_first():
    baskets = pa.table({"order_id": [70, 80], "user_id": [7, 8], "products": [[2, 1], []],
                        "includes_none": [False, True], "expected_f1": [0.61, 1.0]})
    scores = pa.table({"user_id": [7, 7, 7], "product_id": [1, 3, 2], "probability": [0.4, 0.1234567891, 0.7]})

    items = list(user_items(baskets, scores, {1: "Banana"}))

    assert [(item.kind, item.key) for item in items] == [(USER, 7), (USER, 8)]
    assert [json.loads(item.document) for item in items] == [
        {"user_id": 7, "order_id": 70, "includes_none": False, "expected_f1": 0.61,
         "basket": [{"product_id": 2, "product_name": None}, {"product_id": 1, "product_name": "Banana"}],
         "scores": [[2, 0.7], [1, 0.4], [3, 0.123457]]},
        {"user_id": 8, "order_id": 80, "includes_none": True, "expected_f1": 1.0, "basket": [], "scores": []},
    ]


def test_a_product_item_holds_its_name_aisle_and_department():
    products = pa.table({"product_id": [5], "product_name": ["Dish Soap"], "aisle": [None], "department": ["household"],
                         "extra": [1]})

    [item] = product_items(products)

    assert (item.kind, item.key, json.loads(item.document)) == (
        PRODUCT, 5, {"product_id": 5, "product_name": "Dish Soap", "aisle": None, "department": "household"})


def items_of(version_tag: str, users: range) -> list[Item]:
    return ([Item(PRODUCT, 1, json.dumps({"product_id": 1, "product_name": f"Banana {version_tag}"}))]
            + [Item(USER, user, json.dumps({"user_id": user, "version_tag": version_tag})) for user in users])


def test_items_are_read_by_key_under_the_current_version(store):
    assert store.current() is None

    pointer = export_version(store, "v1", items_of("v1", range(1, 31)))

    assert (pointer.model_version, pointer.users, pointer.products) == ("v1", 30, 1)
    assert store.current() == pointer
    assert store.get(USER, 30, "v1") == {"user_id": 30, "version_tag": "v1"}
    assert store.get(USER, 31, "v1") is None and store.get(USER, 30, "v2") is None
    assert store.get_many(USER, [2, 3, 99, 2], "v1") == {2: {"user_id": 2, "version_tag": "v1"},
                                                         3: {"user_id": 3, "version_tag": "v1"}}
    assert store.get_many(PRODUCT, [], "v1") == {}


def test_exporting_a_version_again_writes_the_same_items(store):
    export_version(store, "v1", items_of("v1", range(1, 4)))
    again = export_version(store, "v1", items_of("v1", range(1, 4)))

    assert again.users == 3 and store.current() == again
    assert store.get_many(USER, range(1, 5), "v1") == {user: {"user_id": user, "version_tag": "v1"}
                                                       for user in range(1, 4)}


def snapshot(store, users: range) -> tuple[str, dict[int, str], str]:
    """What one reader sees: the current version, then each user's item and the product's name."""
    version = store.current().model_version
    found = {user: store.get(USER, user, version)["version_tag"]
             for user in users if store.get(USER, user, version) is not None}
    return version, found, store.get(PRODUCT, 1, version)["product_name"]


def test_a_reader_during_an_export_sees_the_old_version_or_the_new_one_never_a_mix(store):
    users = range(1, 121)
    export_version(store, "v1", items_of("v1", range(1, 81)))
    expected = {"v1": ("v1", dict.fromkeys(range(1, 81), "v1"), "Banana v1"),
                "v2": ("v2", dict.fromkeys(range(1, 121), "v2"), "Banana v2")}
    half_written, seen_half_written, export_done = threading.Event(), threading.Event(), threading.Event()
    snapshots: list[tuple[bool, tuple]] = []

    def reader() -> None:
        while not export_done.is_set():
            during = half_written.is_set()
            snapshots.append((during, snapshot(store, users)))
            if during:
                seen_half_written.set()
        snapshots.append((False, snapshot(store, users)))

    def new_items():
        for index, item in enumerate(items_of("v2", users)):
            if index == 60:
                half_written.set()
                assert seen_half_written.wait(timeout=60)
            yield item

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        export_version(store, "v2", new_items())
    finally:
        export_done.set()
        thread.join()

    assert all(seen in (expected["v1"], expected["v2"]) for _, seen in snapshots)
    assert any(during and seen == expected["v1"] for during, seen in snapshots)
    assert snapshots[-1][1] == expected["v2"]


def test_unprocessed_items_are_written_again(dynamodb):
    """DynamoDB may leave part of a BatchWriteItem unprocessed (throttling): here the first
    answer leaves every item unprocessed, and the store sends them again."""
    answers = []

    def throttle_first_call(params, **kwargs):
        if not answers:
            answers.append("throttled")
            return AWSResponse("", 200, {}, None), {"UnprocessedItems": json.loads(params["body"])["RequestItems"]}
        answers.append("written")
        return None

    dynamodb.meta.events.register("before-call.dynamodb.BatchWriteItem", throttle_first_call)
    store = DynamoDBServingStore(dynamodb, TABLE, writers=1)

    store.write_items("v1", items_of("v1", range(1, 4)))

    assert answers == ["throttled", "written"]
    assert set(store.get_many(USER, range(1, 4), "v1")) == {1, 2, 3}


def test_the_pointer_keeps_what_the_export_wrote():
    pointer = Pointer("v1", "2025-02-01T12:00:00Z", users=2, products=3)

    assert Pointer.from_json(pointer.to_json()) == pointer
