"""Order events (instacart_lake.schemas.ORDER_EVENT) from the orders of a dataset: one event per
order with its lines, in the time the orders were placed.

orders.csv has no dates, only each user's gaps (`days_since_prior_order`) and the hour of day;
so the replay lays every user's orders back from one common last day (REPLAY_END) by those
gaps, at the order's hour, and sends the orders of all users in that time order.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Iterator

import pandas as pd

from instacart_lake.schemas import ORDER_EVENT

REPLAY_END = dt.datetime(2017, 5, 1, tzinfo=dt.timezone.utc)
"""The day of every user's last order in a replay (the data set was published in May 2017)."""


@dataclass(frozen=True)
class EventRecord:
    """One event as a Kinesis record: its data (one line of JSON) and partition key."""

    event_id: str
    data: bytes
    partition_key: str


def placed_at(orders: pd.DataFrame) -> pd.Series:
    """When each order was placed in the replay: REPLAY_END minus the days from the order to its
    user's last order, at the order's hour of day."""
    ordered = orders.sort_values(["user_id", "order_number"])
    days = ordered["days_since_prior_order"].fillna(0).astype("int64").groupby(ordered["user_id"]).cumsum()
    days_before_last = days.groupby(ordered["user_id"]).transform("max") - days
    moment = (pd.Timestamp(REPLAY_END) - pd.to_timedelta(days_before_last, unit="D")
              + pd.to_timedelta(ordered["order_hour_of_day"].astype("int64"), unit="h"))
    return moment.reindex(orders.index)


def order_events(orders: pd.DataFrame, lines: pd.DataFrame) -> Iterator[dict]:
    """The events of `orders` (the columns of orders.csv) with their `lines` (order_id,
    product_id, add_to_cart_order, reordered), in replay time order (ties by order_id)."""
    timed = orders.assign(placed_at=placed_at(orders)).sort_values(["placed_at", "order_id"])
    line_fields = ORDER_EVENT.line_field_names
    lines_by_order = {
        order_id: [dict(zip(line_fields, values)) for values in group[list(line_fields)].itertuples(index=False)]
        for order_id, group in lines.sort_values(["order_id", "add_to_cart_order"]).groupby("order_id")
    }
    order_fields = [name for name in ORDER_EVENT.field_names if name in orders.columns]
    for row in timed.itertuples(index=False):
        values = row._asdict()
        event = {"event_id": str(uuid.uuid4()),
                 "event_time": values["placed_at"].strftime("%Y-%m-%dT%H:%M:%SZ")}
        for name in order_fields:
            event[name] = _plain(values[name])
        event[ORDER_EVENT.lines_field] = [{k: int(v) for k, v in line.items()}
                                          for line in lines_by_order.get(values["order_id"], [])]
        yield event


def _plain(value):
    """A JSON value: numpy integers as int, missing values as null."""
    if pd.isna(value):
        return None
    return value if isinstance(value, str) else int(value)


def as_record(event: dict) -> EventRecord:
    data = json.dumps(event, separators=(",", ":")).encode("utf-8")
    return EventRecord(event["event_id"], data, str(event[ORDER_EVENT.partition_key]))
