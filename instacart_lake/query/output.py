"""A query result printed as a table (rich), CSV or JSON."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from instacart_lake.query.result import QueryResult

FORMATS = ("table", "csv", "json")
SIGNIFICANT_DIGITS = 6
"""Digits of a double in the table format; CSV and JSON keep every digit."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{SIGNIFICANT_DIGITS}g}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def print_table(result: QueryResult, console: Console) -> None:
    table = Table(*result.column_names)
    for row in result.rows:
        table.add_row(*(_text(value) for value in row))
    console.print(table)
    console.print(f"{len(result.rows)} rows ({result.engine})", highlight=False)


def write_csv(result: QueryResult, stream: TextIO) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(result.column_names)
    writer.writerows([("" if value is None else _json_value(value) for value in row) for row in result.rows])


def write_json(result: QueryResult, stream: TextIO) -> None:
    document = {
        "engine": result.engine,
        "columns": [{"name": column.name, "type": column.type} for column in result.columns],
        "rows": [{name: _json_value(value) for name, value in zip(result.column_names, row)}
                 for row in result.rows],
    }
    json.dump(document, stream, indent=2)
    stream.write("\n")
