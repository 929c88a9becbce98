"""The orders of a dataset folder (generated, or the real files) as the producer replays them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from instacart_lake.errors import InputError
from instacart_lake.schemas import SOURCE_TABLES

LINE_TABLES = tuple(name for name, table in SOURCE_TABLES.items() if table.order_eval_set is not None)


def _read(path: Path, table_name: str) -> pd.DataFrame:
    """A source file with its declared columns as numbers where they are integers (the real
    files write `15.0`, zero-padded hours and a byte order mark; pandas reads them all)."""
    table = SOURCE_TABLES[table_name]
    if not path.is_file():
        raise InputError(f"no {table.file_name} to replay", str(path))
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype={c.name: "string" for c in table.columns
                                                            if c.type == "string"})
    if tuple(frame.columns) != table.column_names:
        raise InputError(f"header does not match {table.file_name}: expected {','.join(table.column_names)}",
                         str(path), 1)
    for column in table.columns:
        if column.type == "int":
            try:
                frame[column.name] = pd.to_numeric(frame[column.name], errors="raise").astype("Int64")
            except (ValueError, TypeError) as error:
                raise InputError(f"column {column.name} is not all integers ({error}); replay a dataset "
                                 "without damaged rows", str(path)) from None
    return frame


def read_orders(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """orders.csv, and the lines of order_products__prior.csv and __train.csv together."""
    orders = _read(folder / SOURCE_TABLES["orders"].file_name, "orders")
    lines = pd.concat([_read(folder / SOURCE_TABLES[name].file_name, name) for name in LINE_TABLES],
                      ignore_index=True)
    return orders, lines
