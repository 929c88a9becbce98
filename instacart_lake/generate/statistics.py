"""The statistics of an Instacart dataset (generated or real), computed from its files with
DuckDB, next to the values of the real data (the statistics table of the data contract,
instacart.md) and whether each lies in tolerance: within 10% unless the real value is a range,
a bound or an exact value.

Counts that grow with the number of users (users, orders, lines, candidate pairs) are compared
with the real counts scaled to the dataset's number of users, so small datasets are checked too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import duckdb

from instacart_lake.errors import InputError, LakeError
from instacart_lake.generate.dataset import GROUND_TRUTH_FILE
from instacart_lake.generate.oracle import oracle_score
from instacart_lake.generate.scales import REAL_USER_COUNT
from instacart_lake.schemas import SOURCE_TABLES

Value = Union[int, float, str, tuple]

RELATIVE_TOLERANCE = 0.10

WITHIN_10_PERCENT = "within 10%"
RANGE = "range"
AT_MOST = "at most"
EQUAL = "equal"


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    real: Value
    """The real value; for a range, (low, high)."""
    check: str = WITHIN_10_PERCENT
    per_user: bool = False
    """A count that grows with users: compared with `real` scaled to the dataset's users."""


TARGETS: tuple[Target, ...] = (
    Target("users", "users", REAL_USER_COUNT, per_user=True),
    Target("train_users", "users with a train last order", 131_209, per_user=True),
    Target("test_users", "users with a test last order", 75_000, per_user=True),
    Target("orders", "orders", 3_421_083, per_user=True),
    Target("prior_orders", "prior orders", 3_214_874, per_user=True),
    Target("train_orders", "train orders", 131_209, per_user=True),
    Target("test_orders", "test orders", 75_000, per_user=True),
    Target("prior_lines", "rows in order_products__prior", 32_434_489, per_user=True),
    Target("train_lines", "rows in order_products__train", 1_384_617, per_user=True),
    Target("products", "products", 49_688),
    Target("aisles", "aisles", 134),
    Target("departments", "departments", 21),
    Target("mean_orders_per_user", "mean orders per user", 16.59),
    Target("median_order_number", "median order_number", 11),
    Target("mean_basket_prior", "mean basket size, prior", 10.09),
    Target("mean_basket_train", "mean basket size, train", 10.55),
    Target("basket_mode", "most common basket size", 5),
    Target("basket_max", "largest basket", 145),
    Target("reorder_rate_prior", "reorder rate, prior lines", 0.590),
    Target("reorder_rate_train", "reorder rate, train lines", 0.599),
    Target("same_day_share", "share of gaps of 0 days", 0.02),
    Target("gap_peaks", "gaps (7, 14, 21, 30) that are peaks", (7, 14, 21, 30), EQUAL),
    Target("median_gap_train_lines", "median days_since_prior_order, train lines", 15),
    Target("dow_0_share", "share of orders on day 0", 0.175),
    Target("dow_1_share", "share of orders on day 1", 0.175),
    Target("hour_9_17_share", "share of orders 09:00-17:59", 0.72),
    Target("hour_0_5_share", "share of orders 00:00-05:59", 0.02, AT_MOST),
    Target("top_product", "most popular product", "Banana", EQUAL),
    Target("top_product_share", "its share of all lines", 0.015),
    Target("top_20_share", "share of lines of the top 20 products", 0.10),
    Target("top_20_reorder_rate", "reorder rate of the top 20 products", (0.70, 0.85), RANGE),
    Target("candidates", "candidate pairs of train users", 8_474_661, per_user=True),
    Target("candidate_positive_rate", "share of candidates in the train order", 0.098),
    Target("none_share", "train orders with no reordered product", 0.06),
    Target("oracle_f1", "oracle mean F1 (train orders)", (0.38, 0.50), RANGE),
)


@dataclass(frozen=True)
class Comparison:
    target: Target
    value: Value | None
    expected: Value
    """The real value, scaled to the dataset's users for per-user counts."""
    in_tolerance: bool | None
    """None when the value could not be computed (oracle without ground truth)."""


def compare_with_real(statistics: dict[str, Value | None]) -> list[Comparison]:
    """Each statistic next to its real value; per-user counts are scaled by the users."""
    scale = statistics["users"] / REAL_USER_COUNT
    comparisons = []
    for target in TARGETS:
        value = statistics.get(target.key)
        expected = round(target.real * scale) if target.per_user else target.real
        in_tolerance = None if value is None else _in_tolerance(target.check, value, expected)
        comparisons.append(Comparison(target, value, expected, in_tolerance))
    return comparisons


def _in_tolerance(check: str, value: Value, expected: Value) -> bool:
    if check == AT_MOST:
        return value <= expected
    if check == EQUAL:
        return value == expected
    if check == RANGE:
        low, high = expected
        return low <= value <= high
    return abs(value - expected) <= RELATIVE_TOLERANCE * abs(expected)


def compute_statistics(directory: Path, with_oracle: bool = True) -> dict[str, Value | None]:
    """The statistics of the dataset in `directory`; the oracle F1 when ground_truth.csv is there."""
    missing = [t.file_name for t in SOURCE_TABLES.values() if not (directory / t.file_name).is_file()]
    if missing:
        raise LakeError(f"{directory}: missing {', '.join(missing)}")
    with duckdb.connect() as connection:
        connection.execute("SET enable_progress_bar = false")
        for name, table in SOURCE_TABLES.items():
            _load(connection, name, directory / table.file_name)
        statistics = _order_statistics(connection)
        statistics.update(_line_statistics(connection))
        statistics.update(_product_statistics(connection))
        statistics.update(_candidate_statistics(connection))
    ground_truth = directory / GROUND_TRUTH_FILE
    statistics["oracle_f1"] = (oracle_score(ground_truth).mean_f1
                               if with_oracle and ground_truth.is_file() else None)
    return statistics


def _load(connection: duckdb.DuckDBPyConnection, name: str, path: Path) -> None:
    """Load one file into a table of the same name; a file that does not parse (a damaged
    one, for instance) is refused with the line DuckDB stopped at."""
    try:
        connection.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_csv(?, header = true, "
            f"quote = '\"', escape = '\"', auto_detect = false, "
            f"columns = {_duckdb_columns(name)})",
            [str(path)])
    except duckdb.Error as error:
        message = str(error).split("Possible fixes")[0]
        line = re.search(r"on Line: (\d+)", message)
        problem = "; ".join(part.strip() for part in message.splitlines()[1:] if part.strip())
        raise InputError(f"cannot be read for statistics: {problem or message.strip()}",
                         str(path), int(line.group(1)) if line else None) from None


def _duckdb_columns(name: str) -> str:
    """The DuckDB column types of a file; days_since_prior_order is read as a double (`15.0`)."""
    types = {"int": "INTEGER", "string": "VARCHAR"}
    columns = ", ".join(
        f"'{c.name}': '{'DOUBLE' if c.name == 'days_since_prior_order' else types[c.type]}'"
        for c in SOURCE_TABLES[name].columns)
    return "{" + columns + "}"


def _one(connection: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    return connection.execute(sql).fetchone()


def _order_statistics(connection: duckdb.DuckDBPyConnection) -> dict[str, Value]:
    users, train_users, test_users, orders, prior, train, test, median_number = _one(connection, """
        SELECT count(DISTINCT user_id),
               count(DISTINCT user_id) FILTER (eval_set = 'train'),
               count(DISTINCT user_id) FILTER (eval_set = 'test'),
               count(*), count(*) FILTER (eval_set = 'prior'), count(*) FILTER (eval_set = 'train'),
               count(*) FILTER (eval_set = 'test'), quantile_disc(order_number, 0.5)
        FROM orders""")
    gap_shares = dict(connection.execute("""
        SELECT CAST(days_since_prior_order AS INTEGER), count(*) / sum(count(*)) OVER ()
        FROM orders WHERE days_since_prior_order IS NOT NULL GROUP BY 1""").fetchall())
    peaks = tuple(day for day in (7, 14, 21, 30)
                  if gap_shares.get(day, 0) > gap_shares.get(day - 1, 0)
                  and gap_shares.get(day, 0) > gap_shares.get(day + 1, 0))
    dow_0, dow_1, hour_9_17, hour_0_5 = _one(connection, """
        SELECT avg((order_dow = 0)::INTEGER), avg((order_dow = 1)::INTEGER),
               avg((order_hour_of_day BETWEEN 9 AND 17)::INTEGER),
               avg((order_hour_of_day BETWEEN 0 AND 5)::INTEGER)
        FROM orders""")
    return {
        "users": users, "train_users": train_users, "test_users": test_users, "orders": orders,
        "prior_orders": prior, "train_orders": train, "test_orders": test,
        "mean_orders_per_user": orders / users, "median_order_number": median_number,
        "same_day_share": gap_shares.get(0, 0.0), "gap_peaks": peaks,
        "dow_0_share": dow_0, "dow_1_share": dow_1,
        "hour_9_17_share": hour_9_17, "hour_0_5_share": hour_0_5,
    }


def _line_statistics(connection: duckdb.DuckDBPyConnection) -> dict[str, Value]:
    statistics: dict[str, Value] = {}
    for eval_set in ("prior", "train"):
        lines, basket, reorder_rate = _one(connection, f"""
            SELECT sum(n), avg(n), sum(r) / sum(n)
            FROM (SELECT count(*) AS n, sum(reordered) AS r
                  FROM order_products__{eval_set} GROUP BY order_id)""")
        statistics[f"{eval_set}_lines"] = int(lines)
        statistics[f"mean_basket_{eval_set}"] = basket
        statistics[f"reorder_rate_{eval_set}"] = reorder_rate
    mode, largest = _one(connection, """
        SELECT mode(n), max(n) FROM (
            SELECT count(*) AS n FROM order_products__prior GROUP BY order_id
            UNION ALL SELECT count(*) FROM order_products__train GROUP BY order_id)""")
    (median_gap,) = _one(connection, """
        SELECT quantile_disc(days_since_prior_order, 0.5)
        FROM order_products__train JOIN orders USING (order_id)""")
    statistics.update(basket_mode=mode, basket_max=largest, median_gap_train_lines=median_gap)
    return statistics


def _product_statistics(connection: duckdb.DuckDBPyConnection) -> dict[str, Value]:
    counts, aisles, departments = _one(connection, """
        SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM aisles),
               (SELECT count(*) FROM departments)""")
    top = connection.execute("""
        WITH lines AS (SELECT product_id, reordered FROM order_products__prior
                       UNION ALL SELECT product_id, reordered FROM order_products__train)
        SELECT p.product_name, b.n, b.r
        FROM (SELECT product_id, count(*) AS n, sum(reordered) AS r FROM lines GROUP BY product_id) b
        JOIN products p USING (product_id)
        ORDER BY b.n DESC, b.product_id LIMIT 20""").fetchall()
    (total_lines,) = _one(connection, """
        SELECT (SELECT count(*) FROM order_products__prior)
               + (SELECT count(*) FROM order_products__train)""")
    top_lines = sum(row[1] for row in top)
    return {
        "products": counts, "aisles": aisles, "departments": departments,
        "top_product": top[0][0], "top_product_share": top[0][1] / total_lines,
        "top_20_share": top_lines / total_lines,
        "top_20_reorder_rate": sum(row[2] for row in top) / top_lines,
    }


def _candidate_statistics(connection: duckdb.DuckDBPyConnection) -> dict[str, Value]:
    candidates, positives = _one(connection, """
        WITH train_orders AS (SELECT user_id, order_id FROM orders WHERE eval_set = 'train'),
             candidates AS (
                SELECT DISTINCT o.user_id, l.product_id
                FROM order_products__prior l JOIN orders o USING (order_id)
                JOIN train_orders t USING (user_id)),
             bought AS (
                SELECT t.user_id, l.product_id
                FROM order_products__train l JOIN train_orders t USING (order_id))
        SELECT count(*), count(b.product_id)
        FROM candidates c LEFT JOIN bought b USING (user_id, product_id)""")
    (none_share,) = _one(connection, """
        SELECT avg((coalesce(r, 0) = 0)::INTEGER)
        FROM (SELECT order_id FROM orders WHERE eval_set = 'train')
        LEFT JOIN (SELECT order_id, sum(reordered) AS r FROM order_products__train GROUP BY order_id)
        USING (order_id)""")
    return {"candidates": candidates, "candidate_positive_rate": positives / candidates,
            "none_share": none_share}
