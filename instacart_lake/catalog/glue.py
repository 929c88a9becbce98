"""The AWS Glue Data Catalog through boto3, behind the catalog interface."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Any, Iterator

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from instacart_lake.catalog.base import Catalog
from instacart_lake.catalog.errors import AlreadyExistsError, CatalogError, EntityNotFoundError

PARTITIONS_PER_BATCH = 100
"""BatchCreatePartition takes at most 100 partitions per call."""


def _plain(value: Any) -> Any:
    """A boto3 response with its datetimes as ISO-8601 strings."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if key != "ResponseMetadata"}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@contextmanager
def _glue_errors(action: str) -> Iterator[None]:
    """Turn botocore's errors into the catalog's own."""
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = f"Glue {action}: {error.response.get('Error', {}).get('Message') or code}"
        if code == "EntityNotFoundException":
            raise EntityNotFoundError(message) from error
        if code == "AlreadyExistsException":
            raise AlreadyExistsError(message) from error
        raise CatalogError(f"{message} ({code})") from error
    except BotoCoreError as error:
        raise CatalogError(f"Glue {action}: {error}") from error


class GlueCatalog(Catalog):
    def __init__(self, region_name: str | None = None, client: Any = None):
        self.client = client or boto3.client("glue", region_name=region_name)

    def _pages(self, operation: str, result_key: str, action: str, **parameters: Any) -> list[dict]:
        with _glue_errors(action):
            paginator = self.client.get_paginator(operation)
            return [_plain(item) for page in paginator.paginate(**parameters) for item in page[result_key]]

    # -- databases ------------------------------------------------------------------------

    def ensure_database(self, name: str, description: str = "", location_uri: str | None = None) -> dict:
        database_input: dict[str, Any] = {"Name": name, "Description": description}
        if location_uri is not None:
            database_input["LocationUri"] = location_uri
        try:
            with _glue_errors(f"create database {name}"):
                self.client.create_database(DatabaseInput=database_input)
        except AlreadyExistsError:
            pass
        with _glue_errors(f"get database {name}"):
            return _plain(self.client.get_database(Name=name)["Database"])

    def get_databases(self) -> list[dict]:
        databases = self._pages("get_databases", "DatabaseList", "get databases")
        return sorted(databases, key=lambda database: database["Name"])

    # -- tables ---------------------------------------------------------------------------

    def create_table(self, database: str, table_input: dict) -> None:
        with _glue_errors(f"create table {database}.{table_input['Name']}"):
            self.client.create_table(DatabaseName=database, TableInput=table_input)

    def update_table(self, database: str, table_input: dict) -> None:
        with _glue_errors(f"update table {database}.{table_input['Name']}"):
            self.client.update_table(DatabaseName=database, TableInput=table_input, SkipArchive=False)

    def get_table(self, database: str, name: str) -> dict | None:
        try:
            with _glue_errors(f"get table {database}.{name}"):
                return _plain(self.client.get_table(DatabaseName=database, Name=name)["Table"])
        except EntityNotFoundError:
            with _glue_errors(f"get database {database}"):
                self.client.get_database(Name=database)
            return None

    def get_tables(self, database: str) -> list[dict]:
        tables = self._pages("get_tables", "TableList", f"get tables of {database}", DatabaseName=database)
        return sorted(tables, key=lambda table: table["Name"])

    def get_table_versions(self, database: str, name: str) -> list[dict]:
        versions = self._pages("get_table_versions", "TableVersions", f"get versions of {database}.{name}",
                               DatabaseName=database, TableName=name)
        return sorted(versions, key=lambda version: int(version["VersionId"]))

    def delete_table(self, database: str, name: str) -> None:
        with _glue_errors(f"delete table {database}.{name}"):
            self.client.delete_table(DatabaseName=database, Name=name)

    # -- partitions -----------------------------------------------------------------------

    def batch_create_partition(self, database: str, table: str, partition_inputs: list[dict]) -> list[dict]:
        errors: list[dict] = []
        for start in range(0, len(partition_inputs), PARTITIONS_PER_BATCH):
            with _glue_errors(f"create partitions of {database}.{table}"):
                response = self.client.batch_create_partition(
                    DatabaseName=database, TableName=table,
                    PartitionInputList=partition_inputs[start:start + PARTITIONS_PER_BATCH])
            errors.extend(_plain(response.get("Errors", [])))
        return errors

    def update_partition(self, database: str, table: str, partition_values: list[str],
                         partition_input: dict) -> None:
        with _glue_errors(f"update partition {partition_values} of {database}.{table}"):
            self.client.update_partition(DatabaseName=database, TableName=table,
                                         PartitionValueList=partition_values, PartitionInput=partition_input)

    def get_partitions(self, database: str, table: str) -> list[dict]:
        partitions = self._pages("get_partitions", "Partitions", f"get partitions of {database}.{table}",
                                 DatabaseName=database, TableName=table)
        return sorted(partitions, key=lambda partition: partition["Values"])
