"""The catalog of a configuration: the embedded file catalog or AWS Glue."""

from __future__ import annotations

from instacart_lake.aws_clients import boto3_client
from instacart_lake.catalog.base import Catalog
from instacart_lake.catalog.embedded import EmbeddedCatalog
from instacart_lake.catalog.errors import CatalogError
from instacart_lake.catalog.glue import GlueCatalog
from instacart_lake.config import LakeConfig
from instacart_lake.locations import Locations


def open_catalog(config: LakeConfig, locations: Locations) -> Catalog:
    if config.catalog == "embedded":
        return EmbeddedCatalog(locations.catalog_uri)
    if config.catalog == "glue":
        return GlueCatalog(client=boto3_client(config, "glue"))
    raise CatalogError(f"unknown catalog {config.catalog!r} in profile {config.profile} (use embedded or glue)")
