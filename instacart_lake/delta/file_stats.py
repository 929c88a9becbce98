"""Delta per-file statistics (numRecords, minValues, maxValues, nullCount) from a Parquet footer.

The footer already holds per-row-group min, max and null counts, so no data is rescanned. The
bounds written here follow the Delta protocol: minValues is <= every value of the file and
maxValues is >= every value; a bound that cannot be stated exactly is left out, never guessed.

- strings are cut to STRING_PREFIX_LENGTH code points (as Delta Spark does): the min keeps the
  prefix, the max gets a tie-breaker so that it stays an upper bound;
- timestamps are written with millisecond precision, the min rounded down and the max up;
- floats keep only finite bounds (Spark's Parquet writer orders NaN last, so a NaN makes the max NaN
  and it is dropped);
- decimals are written as exact JSON numbers from their unscaled Parquet value;
- booleans, binary and nested columns get no min/max (as in Delta Spark); nested columns get no
  statistics at all.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from typing import Any

import pyarrow.parquet as pq
from pyspark.sql import types as T

STRING_PREFIX_LENGTH = 32
MAX_CODE_POINT = "\U0010ffff"
_DECIMAL_CONTEXT = decimal.Context(prec=80)
_INTEGRAL_TYPES = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)
_FLOAT_TYPES = (T.FloatType, T.DoubleType)
_BOUNDED_TYPES = _INTEGRAL_TYPES + _FLOAT_TYPES + (T.StringType, T.DateType, T.TimestampType, T.DecimalType)
_PRIMITIVE_TYPES = _BOUNDED_TYPES + (T.BooleanType, T.BinaryType, T.TimestampNTZType)


def delta_stats_json(metadata: pq.FileMetaData, data_schema: T.StructType) -> str:
    """The Delta `stats` JSON of one Parquet file whose columns are `data_schema`."""
    leaf_index = {metadata.schema.column(i).path: i for i in range(metadata.num_columns)}
    minimums: dict[str, Any] = {}
    maximums: dict[str, Any] = {}
    null_counts: dict[str, int] = {}
    for field in data_schema.fields:
        index = leaf_index.get(field.name)
        if index is None or not isinstance(field.dataType, _PRIMITIVE_TYPES):
            continue
        column = _ColumnFooter(metadata, index)
        if column.null_count is not None:
            null_counts[field.name] = column.null_count
        if not isinstance(field.dataType, _BOUNDED_TYPES) or not column.bounds_known:
            continue
        lower, upper = column.bounds(field.dataType)
        if lower is not None:
            minimums[field.name] = lower
        if upper is not None:
            maximums[field.name] = upper
    return (
        f'{{"numRecords":{metadata.num_rows},"minValues":{_json_object(minimums)},'
        f'"maxValues":{_json_object(maximums)},"nullCount":{_json_object(null_counts)}}}'
    )


class _ColumnFooter:
    """The statistics of one leaf column over all row groups of a file."""

    def __init__(self, metadata: pq.FileMetaData, index: int):
        self.statistics: list[pq.Statistics] = []
        self.null_count: int | None = 0
        self.bounds_known = True
        for group in range(metadata.num_row_groups):
            chunk = metadata.row_group(group).column(index)
            stats = chunk.statistics
            if stats is None or not stats.has_null_count:
                self.null_count = None
                self.bounds_known = False
                continue
            if self.null_count is not None:
                self.null_count += stats.null_count
            if stats.has_min_max:
                self.statistics.append(stats)
            elif stats.null_count < chunk.num_values:
                self.bounds_known = False
        self.bounds_known = self.bounds_known and bool(self.statistics)

    def bounds(self, data_type: T.DataType) -> tuple[Any, Any]:
        if isinstance(data_type, T.DecimalType):
            lows = [_decimal(s.min_raw, data_type.scale) for s in self.statistics]
            highs = [_decimal(s.max_raw, data_type.scale) for s in self.statistics]
        else:
            lows = [s.min for s in self.statistics]
            highs = [s.max for s in self.statistics]
        if isinstance(data_type, _FLOAT_TYPES):
            lows = [value for value in lows if not math.isnan(value)]  # NaN sorts last: not a min
            if any(math.isnan(value) for value in highs):
                highs = []  # the file holds a NaN, which no finite max bounds
        return _lower_bound(min(lows, default=None), data_type), _upper_bound(max(highs, default=None), data_type)


def _lower_bound(value: Any, data_type: T.DataType) -> Any:
    if value is None:
        return None
    if isinstance(data_type, _FLOAT_TYPES):
        return value if math.isfinite(value) else None
    if isinstance(data_type, T.StringType):
        return value[:STRING_PREFIX_LENGTH] if isinstance(value, str) else None
    if isinstance(data_type, T.TimestampType):
        return _timestamp_text(value, round_up=False)
    if isinstance(data_type, T.DateType):
        return value.isoformat()
    return value


def _upper_bound(value: Any, data_type: T.DataType) -> Any:
    if value is None:
        return None
    if isinstance(data_type, _FLOAT_TYPES):
        return value if math.isfinite(value) else None
    if isinstance(data_type, T.StringType):
        return truncated_string_max(value) if isinstance(value, str) else None
    if isinstance(data_type, T.TimestampType):
        return _timestamp_text(value, round_up=True)
    if isinstance(data_type, T.DateType):
        return value.isoformat()
    return value


def truncated_string_max(value: str) -> str:
    """An upper bound of `value` at most a little longer than STRING_PREFIX_LENGTH code points.

    The prefix is followed by U+10FFFF, which sorts after every other code point (and UTF-8 bytes
    sort like code points), so the result is >= value. Where value itself continues with U+10FFFF
    the prefix is extended past that run; if the run reaches the end, value is its own bound.
    """
    cut = STRING_PREFIX_LENGTH
    while cut < len(value) and value[cut] == MAX_CODE_POINT:
        cut += 1
    if cut >= len(value):
        return value
    return value[:cut] + MAX_CODE_POINT


def _timestamp_text(value: dt.datetime, round_up: bool) -> str:
    """ISO-8601 UTC text with milliseconds, as Delta Spark writes timestamp statistics."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    value = value.astimezone(dt.timezone.utc)
    extra = value.microsecond % 1000
    value -= dt.timedelta(microseconds=extra)
    if round_up and extra:
        value += dt.timedelta(milliseconds=1)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _decimal(unscaled: int | bytes, scale: int) -> decimal.Decimal:
    """A Parquet DECIMAL value from its physical form (INT32/INT64, or big-endian two's complement)."""
    if isinstance(unscaled, bytes):
        unscaled = int.from_bytes(unscaled, "big", signed=True)
    return decimal.Decimal(unscaled).scaleb(-scale, _DECIMAL_CONTEXT)


def _json_object(values: dict[str, Any]) -> str:
    """A JSON object whose decimals are written as exact numbers (json.dumps would need floats).

    Text stays raw UTF-8, as Delta Spark writes it: delta-rs misreads the surrogate-pair escape
    of U+10FFFF."""
    members = (f"{_json_scalar(name)}:{_json_scalar(value)}" for name, value in values.items())
    return "{" + ",".join(members) + "}"


def _json_scalar(value: Any) -> str:
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return json.dumps(value, ensure_ascii=False)
