"""Small Instacart inputs for the feature and ML-set tests: a hand-written sample whose
features are worked out in the tests, and a seeded random sample shaped like the real data.

Tables are dictionaries of source table name -> list of row tuples in the column order of
instacart_lake.schemas; `spark_frames` and `arrow_tables` turn them into inputs.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from instacart_lake.schemas import SOURCE_TABLES

Rows = list[tuple]

# User 1: exactly 3 prior orders, then a train order.
# User 2: 4 prior orders, then a test order.
# User 3: 3 prior orders whose lines are all in order 1 (orders 2 and 3 have none),
#         so no line is in an order with order_number > 1; then a train order.
ORDERS: Rows = [
    (10, 1, "prior", 1, 2, 8, None),
    (11, 1, "prior", 2, 3, 7, 15),
    (12, 1, "prior", 3, 3, 12, 21),
    (13, 1, "train", 4, 4, 7, 14),
    (20, 2, "prior", 1, 5, 15, None),
    (21, 2, "prior", 2, 0, 9, 30),
    (22, 2, "prior", 3, 1, 10, 7),
    (23, 2, "prior", 4, 1, 10, 0),
    (24, 2, "test", 5, 2, 11, 8),
    (30, 3, "prior", 1, 6, 20, None),
    (31, 3, "prior", 2, 6, 21, 3),
    (32, 3, "prior", 3, 6, 22, 3),
    (33, 3, "train", 4, 0, 9, 30),
]
PRIOR_LINES: Rows = [
    (10, 101, 1, 0), (10, 102, 2, 0),
    (11, 101, 1, 1), (11, 103, 2, 0),
    (12, 101, 2, 1), (12, 103, 1, 1), (12, 104, 3, 0),
    (20, 101, 1, 0),
    (21, 102, 1, 0), (21, 105, 2, 0),
    (22, 102, 2, 1),
    (23, 101, 1, 1), (23, 102, 2, 1),
    (30, 104, 1, 0), (30, 106, 2, 0),
]
# Product 107 is new in user 1's train order: not a candidate.
TRAIN_LINES: Rows = [
    (13, 101, 1, 1), (13, 104, 2, 1), (13, 107, 3, 0),
    (33, 106, 1, 1),
]
PRODUCTS: Rows = [
    (101, "Banana", 24, 4),
    (102, "Organic Strawberries", 24, 4),
    (103, "Whole Milk", 84, 16),
    (104, "Sparkling Water, Lime", 115, 7),
    (105, "Crème Fraîche", 108, 16),
    (106, "Bread \"Sourdough\"", 112, 3),
    (107, "Eggs", 86, 16),
]
SAMPLE: dict[str, Rows] = {
    "orders": ORDERS,
    "order_products__prior": PRIOR_LINES,
    "order_products__train": TRAIN_LINES,
    "products": PRODUCTS,
}

_ARROW_TYPES = {"int": pa.int32(), "bigint": pa.int64(), "string": pa.string(),
                "double": pa.float64(), "boolean": pa.bool_()}


def spark_frames(spark, tables: dict[str, Rows]) -> dict:
    """Spark DataFrames with the clean schemas of instacart_lake.schemas."""
    return {name: spark.createDataFrame(rows, schema=SOURCE_TABLES[name].spark_schema())
            for name, rows in tables.items()}


def arrow_tables(tables: dict[str, Rows]) -> dict[str, pa.Table]:
    """pyarrow tables with the clean column types."""
    result = {}
    for name, rows in tables.items():
        columns = SOURCE_TABLES[name].columns
        schema = pa.schema([pa.field(c.name, _ARROW_TYPES[c.type], c.nullable) for c in columns])
        result[name] = pa.Table.from_pylist(
            [dict(zip(schema.names, row)) for row in rows], schema=schema)
    return result


def random_sample(seed: int, users: int, products: int = 40) -> dict[str, Rows]:
    """A random sample shaped like the real data: 3 to 8 prior orders per user, a train or
    test last order, skewed product popularity, random order ids, null days for first
    orders, and about one prior order in eight with no lines (so some users have no line
    after their first order)."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, products + 1)
    popularity /= popularity.sum()
    order_ids = iter(rng.permutation(np.arange(1, 9 * users + 1)))
    orders: Rows = []
    prior_lines: Rows = []
    train_lines: Rows = []
    for user_id in range(1, users + 1):
        prior_count = int(rng.integers(3, 9))
        last_eval_set = "train" if rng.random() < 0.65 else "test"
        bought: set[int] = set()
        for order_number in range(1, prior_count + 2):
            order_id = int(next(order_ids))
            eval_set = "prior" if order_number <= prior_count else last_eval_set
            days = None if order_number == 1 else int(rng.integers(0, 31))
            orders.append((order_id, user_id, eval_set, order_number,
                           int(rng.integers(0, 7)), int(rng.integers(0, 24)), days))
            if eval_set == "test":
                continue
            basket_size = 0 if order_number > 1 and rng.random() < 0.125 else int(rng.integers(1, 7))
            basket = rng.choice(np.arange(1, products + 1), size=basket_size, replace=False,
                                p=popularity)
            lines = prior_lines if eval_set == "prior" else train_lines
            for position, product_id in enumerate(basket, start=1):
                lines.append((order_id, int(product_id), position, int(int(product_id) in bought)))
            if eval_set == "prior":
                bought.update(int(p) for p in basket)
    product_rows = [(p, f"product {p}", 1 + p % 7, 1 + p % 3) for p in range(1, products + 1)]
    return {"orders": orders, "order_products__prior": prior_lines,
            "order_products__train": train_lines, "products": product_rows}
