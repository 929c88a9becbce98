"""Every table the lake's jobs and crawler register in the catalog, with its columns, as the
code that writes it declares them: what the policy's table and column names are checked
against, and the rows of `lake governance matrix`."""

from __future__ import annotations

from pyspark.sql import types as T

from instacart_lake.catalog.names import TableName
from instacart_lake.dq.results import RESULTS_SCHEMA
from instacart_lake.jobs.curated_to_ml import CANDIDATES_TABLE, SET_COLUMN
from instacart_lake.jobs.quality_gate import DQ_RESULTS_TABLE
from instacart_lake.locations import Locations
from instacart_lake.schemas import ORDER_EVENT, SOURCE_TABLES
from instacart_lake.transforms.features import FEATURE_SCHEMAS
from instacart_lake.transforms.gold import GOLD_SCHEMAS
from instacart_lake.transforms.ml_sets import CANDIDATES_SCHEMA

INGEST_PARTITION = "ingest_date"
"""The partition column the crawler gives every raw table."""

QUARANTINE_SCHEMA = T.StructType([
    T.StructField("source_file", T.StringType()),
    T.StructField("line_number", T.LongType()),
    T.StructField("raw_line", T.StringType()),
    T.StructField("raw_bytes", T.BinaryType()),
    T.StructField("reasons", T.ArrayType(T.StringType())),
    T.StructField("run_id", T.StringType()),
    T.StructField("quarantined_at", T.TimestampType()),
])
"""A quarantine table: quarantine_rows' columns, then the run and time the jobs add."""


def _with(schema: T.StructType, name: str, data_type: T.DataType) -> T.StructType:
    return T.StructType([*schema.fields, T.StructField(name, data_type)])


def lake_table_schemas(locations: Locations) -> dict[TableName, T.StructType]:
    """Each catalog table of the lake (database.table) and its columns, partition keys included."""
    def name(zone: str, table: str) -> TableName:
        return TableName(locations.database(zone), table)

    tables: dict[TableName, T.StructType] = {}
    for source in SOURCE_TABLES.values():
        raw_columns = T.StructType([T.StructField(column, T.StringType()) for column in source.column_names])
        tables[name("raw", source.name)] = _with(raw_columns, INGEST_PARTITION, T.StringType())
    for source in SOURCE_TABLES.values():
        tables[name("clean", source.name)] = source.spark_schema()
    for quarantined in (*SOURCE_TABLES, ORDER_EVENT.name):
        tables[name("clean", f"{quarantined}_quarantine")] = QUARANTINE_SCHEMA
    tables[name("clean", DQ_RESULTS_TABLE)] = RESULTS_SCHEMA
    for table, schema in {**FEATURE_SCHEMAS, **GOLD_SCHEMAS}.items():
        tables[name("curated", table)] = schema
    tables[name("ml", CANDIDATES_TABLE)] = _with(CANDIDATES_SCHEMA, SET_COLUMN, T.StringType())
    return tables


def lake_tables(locations: Locations) -> dict[TableName, tuple[str, ...]]:
    """Each catalog table of the lake and its column names."""
    return {table: tuple(schema.fieldNames()) for table, schema in lake_table_schemas(locations).items()}
