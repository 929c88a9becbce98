"""Small inputs for every ruleset of instacart_lake/rulesets, each with the references its rules
name: the hand-written Instacart sample of tests/instacart_samples.py plus a few defective rows
per table (a duplicate key, a dangling reference, a value out of range), so that some rules of
each ruleset fail and others pass.

`RULESET_INPUTS` maps a ruleset file (relative to instacart_lake/rulesets) to the table its rules
judge and the tables they refer to, as names of `TABLES`: (schema, rows)."""

from __future__ import annotations

import datetime as dt

from instacart_samples import ORDERS, PRIOR_LINES, PRODUCTS, TRAIN_LINES
from pyspark.sql import types as T

from instacart_lake.schemas import SOURCE_TABLES
from instacart_lake.transforms.features import FEATURE_SCHEMAS
from instacart_lake.transforms.gold import GOLD_SCHEMAS

SCORED_AT = dt.datetime(2024, 5, 1, 12, 0)


def _source(name: str) -> T.StructType:
    return SOURCE_TABLES[name].spark_schema()


# Each defective row says which rules it breaks.
TABLES: dict[str, tuple[T.StructType, list[tuple]]] = {
    "aisles": (
        _source("aisles"),
        [(24, "fresh fruits"), (84, "milk"), (86, "eggs"), (108, "other creams cheeses"), (112, "bread"),
         (115, "water seltzer sparkling water"),
         (116, "")],  # length 0 is not inside ColumnLength's exclusive range (0, 201)
    ),
    "departments": (
        _source("departments"),
        [(3, "bakery"), (4, "produce"), (7, "beverages"), (16, "dairy eggs"),
         (4, "produce again")],  # duplicate department_id
    ),
    "products": (
        _source("products"),
        [*PRODUCTS,
         (108, "Green Tea", 999, 7),  # aisle 999 is not an aisle
         (101, "Banana", 24, 4)],  # duplicate product_id
    ),
    "orders": (
        _source("orders"),
        # order 40: a first order with days_since_prior_order, dow 7, hour 24; user 4 has no
        # train or test order
        [*ORDERS, (40, 4, "prior", 1, 7, 24, 3)],
    ),
    "order_products__prior": (
        _source("order_products__prior"),
        [*PRIOR_LINES,
         (10, 101, 3, 0),  # duplicate (order_id, product_id)
         (99, 102, 1, 1),  # order 99 is not an order
         (11, 104, 0, 2)],  # add_to_cart_order 0, reordered 2
    ),
    "order_products__train": (
        _source("order_products__train"),
        [*TRAIN_LINES, (13, 999, 4, 0)],  # product 999 is not a product
    ),
    "prd_features": (
        FEATURE_SCHEMAS["prd_features"],
        [(101, 5, 3, 2, 1, 0.5, 2.5, 0.6),
         (102, 4, 2, 2, 1, 0.5, 2.0, 0.5),
         (103, 2, 1, 1, 1, 1.0, 2.0, 0.5),
         (104, 3, 1, 1, 2, 2.0, 3.0, 1.0)],  # probability 2, ratio 1, more second than first orders
    ),
    "up_features": (
        FEATURE_SCHEMAS["up_features"],
        [(1, 101, 3, 1, 3, 1.3, 1.0, 0, 1.0),
         (1, 102, 1, 1, 1, 2.0, 0.33, 2, 0.33),
         (2, 101, 2, 1, 4, 1.0, 0.5, 0, 0.5),
         (2, 101, 2, 1, 4, 1.0, 0.5, 0, 0.5),  # duplicate (user_id, product_id)
         (5, 103, 1, 2, 2, 0.5, 0.25, 1, 0.33)],  # user 5 has no user features; cart position 0.5
    ),
    "user_features_1": (
        FEATURE_SCHEMAS["user_features_1"],
        [(1, 3, 36, 18.0),
         (2, 4, 45, 12.33),
         (3, 3, 6, None),
         (4, 120, -1, 31.0)],  # 120 orders, negative period, mean gap 31; user 4 is not in the sample
    ),
    "user_features_2": (
        FEATURE_SCHEMAS["user_features_2"],
        [(1, 7, 4, 0.43, 2.33),
         (2, 6, 3, None, 1.5),
         (3, 2, 3, 1.2, 2.0)],  # more distinct than total products, reorder ratio 1.2
    ),
    "next_basket": (
        GOLD_SCHEMAS["next_basket"],
        [(24, 2, [101, 102], False, 0.6, "v1"),
         (33, 3, [], False, 0.2, "v1")],  # empty basket without None; 33 is not a test order
    ),
    "reorder_scores": (
        GOLD_SCHEMAS["reorder_scores"],
        [(2, 101, 0.7, "v1", SCORED_AT),
         (2, 102, 0.2, "v1", SCORED_AT),
         (2, 105, 1.3, "v2", SCORED_AT)],  # probability 1.3 of a second model version
    ),
    "inference_candidates": (
        T.StructType([T.StructField("user_id", T.IntegerType()), T.StructField("product_id", T.IntegerType())]),
        [(2, 101), (2, 102), (2, 105)],
    ),
}

RULESET_INPUTS: dict[str, tuple[str, dict[str, str]]] = {
    "clean/aisles.dqdl": ("aisles", {}),
    "clean/departments.dqdl": ("departments", {}),
    "clean/products.dqdl": ("products", {"aisles": "aisles", "departments": "departments"}),
    "clean/orders.dqdl": ("orders", {}),
    "clean/order_products__prior.dqdl": ("order_products__prior", {"orders": "orders", "products": "products"}),
    "clean/order_products__train.dqdl": ("order_products__train", {"orders": "orders", "products": "products"}),
    "curated/prd_features.dqdl": ("prd_features", {"products": "products"}),
    "curated/up_features.dqdl": ("up_features", {"user_features_1": "user_features_1"}),
    "curated/user_features_1.dqdl": ("user_features_1", {"orders": "orders"}),
    "curated/user_features_2.dqdl": ("user_features_2", {"user_features_1": "user_features_1"}),
    "gold/next_basket.dqdl": ("next_basket", {"orders": "orders"}),
    "gold/reorder_scores.dqdl": ("reorder_scores", {"inference_candidates": "inference_candidates"}),
}
