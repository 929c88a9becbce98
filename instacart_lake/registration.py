"""Registering the Delta tables that jobs write in the catalog (decision 4: every table a job
writes is registered), one database per zone."""

from __future__ import annotations

from pyspark.sql import types as T

from instacart_lake.catalog import delta_table_input
from instacart_lake.context import Lake

ZONE_DESCRIPTIONS = {
    "raw": "Files as they landed",
    "clean": "Validated Delta tables and their quarantine",
    "curated": "Feature (Silver) and score (Gold) tables",
    "ml": "Training and inference sets, model artifacts",
}


def register_delta_table(lake: Lake, zone: str, name: str, schema: T.StructType, description: str,
                         partition_keys: tuple[str, ...] = ()) -> None:
    """Create the table's catalog entry, or update it when its columns or description changed
    (the previous definition stays as an older version)."""
    catalog = lake.catalog
    database = lake.locations.database(zone)
    catalog.ensure_database(database, ZONE_DESCRIPTIONS[zone], lake.locations.zone_uri(zone))
    table_input = delta_table_input(name, lake.locations.table_uri(zone, name), schema,
                                    list(partition_keys), description)
    current = catalog.get_table(database, name)
    if current is None:
        catalog.create_table(database, table_input)
    elif (current["StorageDescriptor"]["Columns"] != table_input["StorageDescriptor"]["Columns"]
          or current.get("Description") != table_input.get("Description")):
        catalog.update_table(database, table_input)
