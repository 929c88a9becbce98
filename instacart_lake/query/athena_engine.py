"""Queries on Amazon Athena: StartQueryExecution in the lake's workgroup (whose enforced
configuration holds the result location and its encryption), GetQueryExecution polled until
the query ends, GetQueryResults page by page, each value typed by its column's type."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable
from zoneinfo import ZoneInfo

from botocore.exceptions import BotoCoreError, ClientError

from instacart_lake.query.errors import QueryError
from instacart_lake.query.result import Column, QueryResult
from instacart_lake.query.statement import SOURCE_DIALECT, Statement

RUNNING_STATES = ("QUEUED", "RUNNING")
INTEGER_TYPES = frozenset({"tinyint", "smallint", "integer", "int", "bigint"})
FLOAT_TYPES = frozenset({"double", "float", "real"})


def _timestamp(text: str) -> dt.datetime:
    """Athena's timestamps: `2026-12-01 12:06:38.000`, with a zone for timestamp with time zone
    (`2026-12-01 12:06:38.000 UTC`)."""
    day, clock, *zone = text.split(" ")
    moment = dt.datetime.fromisoformat(f"{day} {clock}")
    return moment.replace(tzinfo=ZoneInfo(zone[0])) if zone else moment


PARSERS: dict[str, Callable[[str], Any]] = {
    **{name: int for name in INTEGER_TYPES},
    **{name: float for name in FLOAT_TYPES},
    "decimal": Decimal,
    "boolean": lambda text: text == "true",
    "date": dt.date.fromisoformat,
    "timestamp": _timestamp,
    "timestamp with time zone": _timestamp,
}
"""How a value of each Athena column type is read from its text; other types stay text."""


def _typed(text: str | None, athena_type: str) -> Any:
    if text is None:
        return None
    return PARSERS.get(athena_type, str)(text)


@dataclass
class AthenaEngine:
    """`client` is boto3's Athena client. Polling waits `first_poll_seconds`, then longer
    each time up to `max_poll_seconds`, for at most `timeout_seconds` in all."""

    client: Any
    workgroup: str
    first_poll_seconds: float = 0.25
    max_poll_seconds: float = 5.0
    timeout_seconds: float = 1800.0

    def run(self, statement: Statement) -> QueryResult:
        source = statement.query.source
        try:
            execution_id = self.client.start_query_execution(
                QueryString=statement.sql(SOURCE_DIALECT), WorkGroup=self.workgroup)["QueryExecutionId"]
            try:
                self._wait(execution_id, source)
            except KeyboardInterrupt:
                self.client.stop_query_execution(QueryExecutionId=execution_id)
                raise
            return self._results(execution_id)
        except (ClientError, BotoCoreError) as error:
            raise QueryError(f"{source}: Athena (workgroup {self.workgroup}): {error}") from None

    def _wait(self, execution_id: str, source: str) -> None:
        deadline = time.monotonic() + self.timeout_seconds
        pause = self.first_poll_seconds
        while True:
            status = self.client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return
            if state not in RUNNING_STATES:
                reason = status.get("AthenaError", {}).get("ErrorMessage") or status.get("StateChangeReason", "")
                raise QueryError(f"{source}: Athena query {execution_id} {state}: {reason}")
            if time.monotonic() + pause > deadline:
                self.client.stop_query_execution(QueryExecutionId=execution_id)
                raise QueryError(f"{source}: Athena query {execution_id} still {state} after "
                                 f"{self.timeout_seconds:.0f} s; stopped")
            time.sleep(pause)
            pause = min(pause * 2, self.max_poll_seconds)

    def _results(self, execution_id: str) -> QueryResult:
        """Every page of the results; the first row of the first page is the header (Athena
        returns the column labels there for a SELECT)."""
        columns: tuple[Column, ...] = ()
        rows: list[tuple[Any, ...]] = []
        pages = self.client.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id)
        for page_number, page in enumerate(pages):
            result_set = page["ResultSet"]
            if page_number == 0:
                columns = tuple(Column(info["Name"], info["Type"].lower())
                                for info in result_set["ResultSetMetadata"]["ColumnInfo"])
            data_rows = result_set["Rows"][1:] if page_number == 0 else result_set["Rows"]
            rows.extend(tuple(_typed(cell.get("VarCharValue"), column.type)
                              for cell, column in zip(row["Data"], columns)) for row in data_rows)
        return QueryResult(columns, rows, engine="athena")
