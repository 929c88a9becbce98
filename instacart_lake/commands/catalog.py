"""`lake catalog`: the databases and tables of the catalog, with columns, types, locations
and parameters."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from instacart_lake.catalog import EntityNotFoundError
from instacart_lake.context import Lake
from instacart_lake.progress import new_console

HELP = "show the catalog: databases, tables, columns and types, locations and parameters"
SPARK_SCHEMA_PARAMETER = "spark.sql.sources.schema."
"""Spark's schema string (Delta tables): in the JSON, left out of the readable listing."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", default=None, metavar="DB", help="show only this database")
    parser.add_argument("--json", action="store_true", help="print the catalog as JSON")


def describe_table(table: dict, partition_count: int) -> dict:
    storage = table.get("StorageDescriptor", {})
    return {
        "name": table["Name"],
        "table_type": table.get("TableType"),
        "classification": table.get("Parameters", {}).get("classification"),
        "location": storage.get("Location"),
        "columns": [{"name": c["Name"], "type": c["Type"]} for c in storage.get("Columns", [])],
        "partition_keys": [{"name": k["Name"], "type": k["Type"]} for k in table.get("PartitionKeys", [])],
        "partitions": partition_count,
        "version": table.get("VersionId"),
        "serde": storage.get("SerdeInfo", {}).get("SerializationLibrary"),
        "parameters": table.get("Parameters", {}),
    }


def describe_catalog(lake: Lake, database: str | None = None) -> list[dict]:
    """The catalog's databases (or the one named), each with its tables described."""
    catalog = lake.catalog
    databases = catalog.get_databases()
    if database is not None:
        databases = [entry for entry in databases if entry["Name"] == database]
        if not databases:
            known = ", ".join(entry["Name"] for entry in catalog.get_databases()) or "none yet"
            raise EntityNotFoundError(f"no database {database} in the catalog (databases: {known})")
    return [{
        "name": entry["Name"],
        "description": entry.get("Description", ""),
        "location": entry.get("LocationUri"),
        "tables": [describe_table(table, len(catalog.get_partitions(entry["Name"], table["Name"])))
                   for table in catalog.get_tables(entry["Name"])],
    } for entry in databases]


def print_catalog(databases: list[dict], console: Console) -> None:
    if not databases:
        console.print("the catalog is empty (run `lake crawl` or a job first)")
    for database in databases:
        console.print(f"[bold]{database['name']}[/bold]  {database['location'] or ''}  {database['description']}")
        for table in database["tables"]:
            keys = ", ".join(f"{k['name']} {k['type']}" for k in table["partition_keys"])
            console.print(f"\n[bold]{database['name']}.{table['name']}[/bold]  "
                          f"{table['classification'] or table['table_type']}, version {table['version']}, "
                          f"{table['partitions']} partitions{f' by {keys}' if keys else ''}", highlight=False)
            console.print(f"  location: {table['location']}", highlight=False, soft_wrap=True)
            listing = Table("column", "type")
            for column in table["columns"]:
                listing.add_row(column["name"], column["type"])
            console.print(listing)
            parameters = sorted((key, value) for key, value in table["parameters"].items()
                                if not key.startswith(SPARK_SCHEMA_PARAMETER))
            console.print("  parameters: " + ", ".join(f"{key}={value}" for key, value in parameters),
                          highlight=False, soft_wrap=True)


def run(args: argparse.Namespace, lake: Lake) -> int:
    databases = describe_catalog(lake, args.database)
    if args.json:
        print(json.dumps({"databases": databases}, indent=2))
    else:
        print_catalog(databases, new_console())
    return 0
