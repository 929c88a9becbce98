"""The data of a write against the schema of the table it goes into."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from instacart_lake.errors import LakeError


def conform(df: DataFrame, table_schema: T.StructType, table_uri: str) -> DataFrame:
    """`df` with the table's columns in the table's order and types, or a LakeError naming every
    missing and unexpected column (a type difference is cast, as Delta's MERGE and INSERT do)."""
    incoming = set(df.columns)
    expected = table_schema.fieldNames()
    problems = [f"missing column {name}" for name in expected if name not in incoming]
    problems += [f"unexpected column {name}" for name in df.columns if name not in expected]
    if problems:
        raise LakeError(f"{table_uri}: the data does not match the table schema: {'; '.join(problems)}")
    types = {field.name: field.dataType for field in df.schema.fields}
    return df.select(*(
        F.col(field.name) if types[field.name] == field.dataType else F.col(field.name).cast(field.dataType)
        for field in table_schema.fields
    ))
