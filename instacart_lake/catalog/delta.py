"""The Glue TableInput of a native Delta table, as Athena (engine 3), Glue and Spark read it.

Athena needs only the location and `table_type=DELTA` (it reads the schema from the
transaction log); the rest is the shape the Glue crawler gives native Delta tables
(`CreateNativeDeltaTable`): an EXTERNAL_TABLE with `spark.sql.sources.provider=delta`,
`classification=delta`, the SerDe `path` parameter that Spark's Delta catalog uses, the
columns in Hive types so the console, Lake Formation and analysts see the schema, and
Spark's own schema string so Spark reads the exact types back.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

SPARK_SCHEMA_PART_CHARS = 4000
"""Spark splits its schema string into table parameters of this length (schemaStringLengthThreshold)."""


def _hive_type(spark_type: Any) -> str:
    """A Spark DataType's Hive name (int, bigint, decimal(10,2), array<string>, ...)."""
    return spark_type.simpleString().replace("timestamp_ntz", "timestamp")


def _glue_columns(columns: Any) -> tuple[list[dict], str | None]:
    """Glue columns from a Spark StructType, (name, type) pairs or Glue column dicts; and the
    Spark schema JSON when a StructType was given."""
    if hasattr(columns, "fields") and hasattr(columns, "json"):
        return [{"Name": field.name, "Type": _hive_type(field.dataType)} for field in columns.fields], columns.json()
    glue_columns = []
    for column in columns:
        if isinstance(column, Mapping):
            glue_columns.append({"Name": column["Name"], "Type": column["Type"]})
        else:
            name, hive_type = column
            glue_columns.append({"Name": name, "Type": hive_type})
    return glue_columns, None


def delta_table_input(
    name: str,
    location: str,
    spark_schema_or_columns: Any,
    partition_keys: Iterable[str] = (),
    description: str = "",
    parameters: Mapping[str, str] | None = None,
) -> dict:
    """The TableInput of the Delta table `name` at `location`.

    `spark_schema_or_columns` is the table's full schema (partition columns included): a
    Spark StructType, (name, Hive type) pairs, or Glue column dicts. Partition columns go to
    PartitionKeys, the others to StorageDescriptor.Columns. `parameters` are added to the
    table parameters (for example the job run that committed the version).
    """
    columns, spark_schema_json = _glue_columns(spark_schema_or_columns)
    keys = list(partition_keys)
    by_name = {column["Name"]: column for column in columns}
    unknown = [key for key in keys if key not in by_name]
    if unknown:
        raise ValueError(f"partition keys {unknown} are not columns of {name}")
    table_parameters = {
        "EXTERNAL": "TRUE",
        "table_type": "DELTA",
        "classification": "delta",
        "spark.sql.sources.provider": "delta",
    }
    if spark_schema_json is not None:
        parts = [spark_schema_json[start:start + SPARK_SCHEMA_PART_CHARS]
                 for start in range(0, len(spark_schema_json), SPARK_SCHEMA_PART_CHARS)]
        table_parameters["spark.sql.sources.schema.numParts"] = str(len(parts))
        table_parameters.update({f"spark.sql.sources.schema.part.{index}": part for index, part in enumerate(parts)})
        if keys:
            table_parameters["spark.sql.sources.schema.numPartCols"] = str(len(keys))
            table_parameters.update({f"spark.sql.sources.schema.partCol.{index}": key
                                     for index, key in enumerate(keys)})
    table_parameters.update(parameters or {})
    return {
        "Name": name,
        "Description": description,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": table_parameters,
        "PartitionKeys": [by_name[key] for key in keys],
        "StorageDescriptor": {
            "Columns": [column for column in columns if column["Name"] not in keys],
            "Location": location,
            "InputFormat": "org.apache.hadoop.mapred.SequenceFileInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveSequenceFileOutputFormat",
            "Compressed": False,
            "NumberOfBuckets": -1,
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                "Parameters": {"serialization.format": "1", "path": location},
            },
            "BucketColumns": [],
            "SortColumns": [],
            "StoredAsSubDirectories": False,
        },
    }
