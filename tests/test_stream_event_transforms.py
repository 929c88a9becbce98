"""Job 1's transforms of order events: delivered lines to checked events (every event clean,
quarantined with its reasons, or an exact duplicate) and clean events to clean rows."""

from __future__ import annotations

import json

from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from instacart_lake.schemas import SOURCE_TABLES
from instacart_lake.transforms.order_events import (
    check_events,
    event_lines,
    event_orders,
    event_texts,
    order_contents,
    parse_events,
)

FILE = "file:///lake/raw/order_events/ingest_date=2017-05-01/events-1.gz"


def event(event_id="e1", order_id=10, **changes) -> dict:
    values = {"event_id": event_id, "event_time": "2017-04-30T09:00:00Z", "order_id": order_id, "user_id": 3,
              "eval_set": "prior", "order_number": 2, "order_dow": 1, "order_hour_of_day": 9,
              "days_since_prior_order": 7,
              "lines": [{"product_id": 1, "add_to_cart_order": 1, "reordered": 0},
                        {"product_id": 2, "add_to_cart_order": 2, "reordered": 1}]}
    values.update(changes)
    return values


def delivered(spark, *texts: str):
    return spark.createDataFrame([(FILE, number, text) for number, text in enumerate(texts, start=1)],
                                 "source_file string, line_number long, value string")


def products(spark, *ids: int):
    return spark.createDataFrame([(product_id,) for product_id in ids], "product_id int")


def outcomes(checked) -> list[tuple[int, str, list[str]]]:
    return sorted((row.line_number, row.disposition, sorted(row.reasons))
                  for row in checked.select("line_number", "disposition", "reasons").collect())


def test_json_texts_keep_integers_and_name_what_json_got_wrong():
    assert event_texts('{"order_id": 5, "eval_set": "prior", "lines": [{"product_id": 7}]}') == {
        "json_reasons": [], "event_id": None, "event_time": None, "order_id": "5", "user_id": None,
        "eval_set": "prior", "order_number": None, "order_dow": None, "order_hour_of_day": None,
        "days_since_prior_order": None,
        "lines": [{"product_id": "7", "add_to_cart_order": None, "reordered": None}]}
    assert event_texts("{not json")["json_reasons"] == ["invalid_json"]
    assert event_texts("[1, 2]")["json_reasons"] == ["invalid_json"]
    assert event_texts('{"order_id": "5", "user_id": true, "lines": 3}')["json_reasons"] == [
        "wrong_type:lines", "wrong_type:order_id", "wrong_type:user_id"]


def test_bad_events_are_quarantined_with_their_reasons_and_valid_ones_kept(spark):
    texts = [
        json.dumps(event("ok", 10)),
        "this is not json",
        json.dumps({**event("wrong-type", 11), "order_id": "11"}),
        json.dumps({k: v for k, v in event("missing", 12).items() if k != "user_id"}),
        json.dumps(event("unknown-product", 13, lines=[{"product_id": 99, "add_to_cart_order": 1, "reordered": 0}])),
        json.dumps(event("hour", 14, order_hour_of_day=25)),
        json.dumps(event("line-type", 15, lines=[{"product_id": 1, "add_to_cart_order": 1.5, "reordered": 0}])),
        json.dumps(event("test-lines", 16, eval_set="test")),
        json.dumps(event("no-lines", 17, lines=None)),
        json.dumps(event("first-order-days", 18, order_number=1)),
        json.dumps(event("first-test", 19, eval_set="test", lines=[], order_number=1, days_since_prior_order=None)),
    ]
    checked = check_events(parse_events(delivered(spark, *texts)), products(spark, 1, 2), known=None)

    assert outcomes(checked) == [
        (1, "clean", []),
        (2, "quarantined", ["invalid_json"]),
        (3, "quarantined", ["wrong_type:order_id"]),
        (4, "quarantined", ["missing_value:user_id"]),
        (5, "quarantined", ["unknown_product_id"]),
        (6, "quarantined", ["out_of_range:order_hour_of_day"]),
        (7, "quarantined", ["wrong_type:lines.add_to_cart_order"]),
        (8, "quarantined", ["order_eval_set_mismatch"]),
        (9, "quarantined", ["missing_value:lines"]),
        (10, "quarantined", ["days_since_prior_on_first_order"]),
        (11, "clean", []),
    ]
    assert checked.where("disposition = 'quarantined' AND line_number = 2").first().value == "this is not json"


def test_repeated_events_are_exact_duplicates_and_conflicting_ones_quarantined(spark):
    known_orders = spark.createDataFrame(
        [Row(order_id=30, user_id=3, eval_set="prior", order_number=2, order_dow=1, order_hour_of_day=9,
             days_since_prior_order=7),
         Row(order_id=31, user_id=3, eval_set="prior", order_number=2, order_dow=1, order_hour_of_day=9,
             days_since_prior_order=7)],
        SOURCE_TABLES["orders"].spark_schema())
    known_lines = spark.createDataFrame(
        [(30, 2, 2, 1), (30, 1, 1, 0), (31, 1, 1, 0)], SOURCE_TABLES["order_products__prior"].spark_schema())
    texts = [
        json.dumps(event("a", 20)),
        json.dumps(event("a", 20)),                        # redelivered
        json.dumps(event("a", 21)),                        # the same id for another order
        json.dumps(event("b", 20)),                        # another id, same order and values
        json.dumps(event("c", 20, order_dow=4)),           # another id, same order, other values
        json.dumps(event("d", 30)),                        # already clean, same values and lines
        json.dumps(event("e", 31)),                        # already clean, other lines
        json.dumps(event("f", 40, order_number=1, days_since_prior_order=None)),
        json.dumps(event("f", 40, order_number=1, days_since_prior_order=None)),
    ]
    order_ids = spark.createDataFrame([(20,), (21,), (30,), (31,), (40,)], "order_id int")
    known = order_contents(known_orders, [known_lines], order_ids)
    checked = check_events(parse_events(delivered(spark, *texts)), products(spark, 1, 2), known)

    assert outcomes(checked) == [
        (1, "clean", []),
        (2, "dropped_duplicate", []),
        (3, "quarantined", ["event_id_reused"]),
        (4, "dropped_duplicate", []),
        (5, "quarantined", ["conflicting_order_event"]),
        (6, "dropped_duplicate", []),
        (7, "quarantined", ["order_exists_with_other_values"]),
        (8, "clean", []),
        (9, "dropped_duplicate", []),
    ]


def test_clean_events_become_rows_of_orders_and_their_line_table(spark):
    texts = [json.dumps(event("p", 50)),
             json.dumps(event("t", 51, eval_set="train", order_number=3,
                              lines=[{"product_id": 2, "add_to_cart_order": 1, "reordered": 1}])),
             json.dumps(event("x", 52, eval_set="test", lines=[], days_since_prior_order=0)),
             "broken"]
    checked = check_events(parse_events(delivered(spark, *texts)), products(spark, 1, 2), known=None)
    orders = SOURCE_TABLES["orders"]

    assertDataFrameEqual(event_orders(checked), spark.createDataFrame([
        (50, 3, "prior", 2, 1, 9, 7), (51, 3, "train", 3, 1, 9, 7), (52, 3, "test", 2, 1, 9, 0)],
        orders.spark_schema()))
    prior = SOURCE_TABLES["order_products__prior"]
    assertDataFrameEqual(event_lines(checked, prior), spark.createDataFrame([(50, 1, 1, 0), (50, 2, 2, 1)],
                                                                            prior.spark_schema()))
    train = SOURCE_TABLES["order_products__train"]
    assertDataFrameEqual(event_lines(checked, train), spark.createDataFrame([(51, 2, 1, 1)], train.spark_schema()))
