"""Turn the catalog and the simulated user blocks into the rows of the six files and of the
ground truth, formatted as the real files are.

Users are numbered 1..n in block order. Order ids are a random permutation of 1..orders, as in
the real data, so orders.csv (sorted by user and order_number) shows them shuffled while the
order-product files are sorted by order_id and cart position, as the real ones are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pyarrow as pa

from instacart_lake.generate.catalog import Catalog
from instacart_lake.generate.csv_files import ArrowRows, TextRows
from instacart_lake.generate.simulate import UserBlock
from instacart_lake.schemas import EVAL_SETS

GROUND_TRUTH_COLUMNS = ("order_id", "user_id", "eval_set", "product_id", "probability", "in_order")

_PRIOR, _TRAIN, _TEST = (EVAL_SETS.index(name) for name in ("prior", "train", "test"))
_EVAL_SET_NAMES = pa.array(EVAL_SETS)
_HOURS = pa.array([f"{hour:02d}" for hour in range(24)])
_DAYS = pa.array([f"{day}.0" for day in range(31)])


@dataclass(frozen=True)
class OrderTables:
    """The rows of orders.csv, the two order-product files and ground_truth.csv."""

    orders: ArrowRows
    prior_lines: ArrowRows
    train_lines: ArrowRows
    ground_truth: ArrowRows
    first_order_rows: np.ndarray
    """Rows of orders.csv that are a user's first order."""
    max_order_id: int


def catalog_rows(catalog: Catalog) -> dict[str, TextRows]:
    """The rows of aisles.csv, departments.csv and products.csv."""
    return {
        "aisles": TextRows([(str(i + 1), name) for i, name in enumerate(catalog.aisle_names)]),
        "departments": TextRows([(str(i + 1), name)
                                 for i, name in enumerate(catalog.department_names)]),
        "products": TextRows([
            (str(i + 1), name, str(aisle_id), str(department_id))
            for i, (name, aisle_id, department_id) in enumerate(zip(
                catalog.product_names, catalog.product_aisle_ids.tolist(),
                catalog.product_department_ids.tolist()))
        ]),
    }


def order_tables(blocks: Sequence[UserBlock], is_test_user: np.ndarray,
                 rng: np.random.Generator) -> OrderTables:
    """`is_test_user[u]` tells whether user u (0-based, all blocks) ends with a test order."""
    order_offsets = np.cumsum([0] + [block.order_count for block in blocks])
    user_offsets = np.cumsum([0] + [block.user_count for block in blocks])
    order_count = int(order_offsets[-1])
    order_ids = (rng.permutation(order_count) + 1).astype(np.int32)

    order_user = np.concatenate([b.order_user + u for b, u in zip(blocks, user_offsets)])
    last_orders = np.concatenate([b.last_order_index() + o for b, o in zip(blocks, order_offsets)])
    eval_set = np.full(order_count, _PRIOR, dtype=np.int8)
    eval_set[last_orders] = np.where(is_test_user, _TEST, _TRAIN)
    days = np.concatenate([b.days_since_prior for b in blocks])
    order_number = np.concatenate([b.order_number for b in blocks])
    orders = pa.table({
        "order_id": order_ids,
        "user_id": (order_user + 1).astype(np.int32),
        "eval_set": _EVAL_SET_NAMES.take(eval_set),
        "order_number": order_number,
        "order_dow": np.concatenate([b.order_dow for b in blocks]),
        "order_hour_of_day": _HOURS.take(np.concatenate([b.order_hour for b in blocks])),
        "days_since_prior_order": _DAYS.take(pa.array(np.maximum(days, 0), mask=days < 0)),
    })
    first_order_rows = np.flatnonzero(order_number == 1)
    del order_user, days, order_number

    line_order = np.concatenate([b.line_order + o for b, o in zip(blocks, order_offsets)])
    line_set = eval_set[line_order]
    tables = {}
    for name, wanted in (("prior", _PRIOR), ("train", _TRAIN)):
        chosen = np.flatnonzero(line_set == wanted)
        tables[name] = _lines_by_order_id(
            order_ids, line_order[chosen],
            np.concatenate([b.line_product for b in blocks])[chosen],
            np.concatenate([b.line_cart for b in blocks])[chosen],
            np.concatenate([b.line_reordered for b in blocks])[chosen])
    del line_order, line_set

    truth_user = np.concatenate([b.truth_user + u for b, u in zip(blocks, user_offsets)])
    truth = pa.Table.from_arrays([
        order_ids[last_orders[truth_user]],
        truth_user + 1,
        _EVAL_SET_NAMES.take(eval_set[last_orders[truth_user]]),
        np.concatenate([b.truth_product for b in blocks]),
        np.round(np.concatenate([b.truth_probability for b in blocks]), 6),
        np.concatenate([b.truth_in_order for b in blocks]),
    ], names=list(GROUND_TRUTH_COLUMNS))
    return OrderTables(orders=ArrowRows(orders), prior_lines=ArrowRows(tables["prior"]),
                       train_lines=ArrowRows(tables["train"]), ground_truth=ArrowRows(truth),
                       first_order_rows=first_order_rows, max_order_id=order_count)


def _lines_by_order_id(order_ids: np.ndarray, line_order: np.ndarray, product: np.ndarray,
                       cart: np.ndarray, reordered: np.ndarray) -> pa.Table:
    """Order lines sorted by order_id then cart position, without sorting: each line's place is
    the start of its order among orders sorted by id, plus its cart position."""
    lines_per_id = np.zeros(len(order_ids) + 1, dtype=np.int64)
    lines_per_id[order_ids] = np.bincount(line_order, minlength=len(order_ids))
    start_by_id = np.cumsum(lines_per_id) - lines_per_id
    place = start_by_id[order_ids[line_order]] + cart - 1
    columns = {}
    for name, values in (("order_id", order_ids[line_order]), ("product_id", product),
                         ("add_to_cart_order", cart), ("reordered", reordered)):
        placed = np.empty_like(values)
        placed[place] = values
        columns[name] = placed
    return pa.table(columns)
