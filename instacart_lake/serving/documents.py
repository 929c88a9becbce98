"""The items of one model version, from its gold tables (pyarrow tables read with deltalake).

- a user item (kind user, key user_id): the next basket of the user's test order, its
  products with their names, whether None is in it and its expected F1, and the reorder
  scores of the user's candidates, most probable first, as [product_id, probability] pairs;
- a product item (kind product, key product_id): its name, aisle and department.
"""

from __future__ import annotations

import json
from typing import Iterator, Mapping

import numpy as np
import pyarrow as pa

from instacart_lake.serving.store import PRODUCT, USER, Item

PROBABILITY_DIGITS = 6
BASKET_COLUMNS = ["order_id", "user_id", "products", "includes_none", "expected_f1"]
SCORE_COLUMNS = ["user_id", "product_id", "probability"]


def product_names(products: pa.Table) -> dict[int, str]:
    return dict(zip(products.column("product_id").to_pylist(), products.column("product_name").to_pylist()))


def product_items(products: pa.Table) -> Iterator[Item]:
    """One item per row of `products` (product_id, product_name, aisle, department)."""
    for row in products.select(["product_id", "product_name", "aisle", "department"]).to_pylist():
        yield Item(PRODUCT, row["product_id"], json.dumps(row, separators=(",", ":")))


def _scores_by_user(scores: pa.Table) -> tuple[dict[int, tuple[int, int]], np.ndarray, np.ndarray]:
    """Each user's slice of the score arrays (product ids, probabilities), sorted by
    descending probability, then product id."""
    ordered = scores.select(SCORE_COLUMNS).sort_by(
        [("user_id", "ascending"), ("probability", "descending"), ("product_id", "ascending")])
    users = ordered.column("user_id").to_numpy()
    starts = np.concatenate([[0], np.flatnonzero(np.diff(users)) + 1]) if len(users) else np.array([], dtype=int)
    ends = np.append(starts[1:], len(users))
    slices = {int(users[start]): (int(start), int(end)) for start, end in zip(starts, ends)}
    return (slices, ordered.column("product_id").to_numpy(),
            np.round(ordered.column("probability").to_numpy(), PROBABILITY_DIGITS))


def user_items(baskets: pa.Table, scores: pa.Table, names: Mapping[int, str]) -> Iterator[Item]:
    """One item per row of `baskets` (one test order per user), with the user's `scores`."""
    slices, product_ids, probabilities = _scores_by_user(scores)
    for row in baskets.select(BASKET_COLUMNS).to_pylist():
        start, end = slices.get(row["user_id"], (0, 0))
        document = {
            "user_id": row["user_id"],
            "order_id": row["order_id"],
            "basket": [{"product_id": product, "product_name": names.get(product)} for product in row["products"]],
            "includes_none": row["includes_none"],
            "expected_f1": row["expected_f1"],
            "scores": [[int(product), float(probability)]
                       for product, probability in zip(product_ids[start:end], probabilities[start:end])],
        }
        yield Item(USER, row["user_id"], json.dumps(document, separators=(",", ":")))
