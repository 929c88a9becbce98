"""The data contract's "every user has exactly one last order, `train` or `test`" as a row-level
rule of job 1.

A user with two or more last orders among the would-be clean orders (the clean table's rows
that this run keeps, and this run's clean rows) breaks the contract, and which of those orders
is the real last one cannot be told: every one of them that this run would add gets the reason
`second_last_order:eval_set` and goes to the quarantine (their order lines follow as
`referenced_row_quarantined:order_id`, through the foreign-key check). Orders already in the
clean table were accepted by an earlier run and stay. A user with no last order breaks the
contract too, but no row can be blamed for it: the orders ruleset warns of it.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

LAST_ORDER_SETS = ("train", "test")
SECOND_LAST_ORDER = "second_last_order:eval_set"


def last_order_reasons(rows: DataFrame, existing: DataFrame | None) -> DataFrame:
    """Adds `second_last_order:eval_set` to the `reasons` of this run's orders that would be
    clean (no reasons, kept by `mark_duplicates`) and are one of two or more last orders of
    their user. `existing` is the clean orders table (None before the first run).

    The users who break the contract are few (none in clean data): they are kept, and the
    orders are joined to them by broadcast, or not at all when there are none."""
    kept = (F.size("reasons") == 0) & F.col("duplicate").isNull()
    is_last = F.col("eval_set").isin(*LAST_ORDER_SETS)
    last_orders = rows.where(kept & is_last).select("order_id", "user_id")
    if existing is not None:
        replaced = rows.where(kept).select("order_id")
        last_orders = (existing.where(is_last).select("order_id", "user_id")
                       .join(replaced, on="order_id", how="left_anti")
                       .unionByName(last_orders))
    breaking_users = (last_orders.groupBy("user_id").count().where(F.col("count") > 1)
                      .select("user_id", F.lit(True).alias("_breaks_contract")).localCheckpoint(eager=True))
    if breaking_users.isEmpty():
        return rows
    flagged = rows.join(F.broadcast(breaking_users), on="user_id", how="left")
    breaks = kept & is_last & F.col("_breaks_contract").isNotNull()
    return (flagged.withColumn("reasons", F.when(breaks, F.array(F.lit(SECOND_LAST_ORDER)))
                               .otherwise(F.col("reasons")))
            .drop("_breaks_contract")
            .select(*rows.columns))
