"""The serving store of a lake: the embedded SQLite file in the meta location for the local
profile, the DynamoDB table `table_name` for the aws profile (the API's SERVING_TABLE, the
export job's --serving_table)."""

from __future__ import annotations

from pathlib import Path

from instacart_lake.aws_clients import boto3_client
from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.locations import uri_to_path
from instacart_lake.serving.dynamodb import DynamoDBServingStore
from instacart_lake.serving.embedded import EmbeddedServingStore
from instacart_lake.serving.store import ServingStore

EMBEDDED_STORE_NAME = "serving.sqlite"


def embedded_store_path(lake: Lake) -> Path:
    return Path(uri_to_path(lake.locations.meta_uri(EMBEDDED_STORE_NAME)))


def open_serving_store(lake: Lake, table_name: str | None = None) -> ServingStore:
    if lake.config.is_local:
        return EmbeddedServingStore(embedded_store_path(lake))
    if not table_name:
        raise LakeError(f"the {lake.config.profile} profile serves from a DynamoDB table: name it with "
                        "SERVING_TABLE (the API) or --serving_table (the export job)")
    return DynamoDBServingStore(boto3_client(lake.config, "dynamodb"), table_name)
