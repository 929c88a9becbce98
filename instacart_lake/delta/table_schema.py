"""Table schemas: Spark's StructType JSON is the Delta schema format, so they convert one to one.

Tables are created with every column nullable, as Delta Spark does for a DataFrame write.
"""

from __future__ import annotations

import json
from typing import Any

from deltalake import Schema as DeltaSchema
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from instacart_lake.errors import LakeError


def nullable(schema: T.StructType) -> T.StructType:
    return T.StructType.fromJson(_nullable_json(schema.jsonValue()))


def _nullable_json(node: Any) -> Any:
    if isinstance(node, dict):
        flags = {key: True for key in ("nullable", "containsNull", "valueContainsNull") if key in node}
        return {key: _nullable_json(value) for key, value in node.items()} | flags
    if isinstance(node, list):
        return [_nullable_json(item) for item in node]
    return node


def to_delta_schema(schema: T.StructType) -> DeltaSchema:
    return DeltaSchema.from_json(nullable(schema).json())


def to_spark_schema(schema: DeltaSchema) -> T.StructType:
    return T.StructType.fromJson(json.loads(schema.to_json()))


def data_schema(schema: T.StructType, partition_by: list[str]) -> T.StructType:
    """The columns stored in the data files: all but the partition columns."""
    return T.StructType([field for field in schema.fields if field.name not in partition_by])


def check_partition_columns(df: DataFrame, partition_by: list[str], table_uri: str) -> None:
    missing = [name for name in partition_by if name not in df.columns]
    if missing:
        raise LakeError(f"{table_uri}: partition columns {missing} are not columns of the data")


def conform(df: DataFrame, table_schema: T.StructType, table_uri: str) -> DataFrame:
    """`df` with the table's column order, or a LakeError naming every difference of names and types."""
    incoming = {field.name: field.dataType for field in nullable(df.schema).fields}
    expected = {field.name: field.dataType for field in nullable(table_schema).fields}
    problems = [f"missing column {name}" for name in expected if name not in incoming]
    problems += [f"unexpected column {name}" for name in incoming if name not in expected]
    problems += [
        f"column {name} is {incoming[name].simpleString()}, the table has {data_type.simpleString()}"
        for name, data_type in expected.items()
        if name in incoming and incoming[name] != data_type
    ]
    if problems:
        raise LakeError(f"{table_uri}: the data does not match the table schema: {'; '.join(problems)}")
    return df.select(*table_schema.fieldNames())
