"""The lake's catalog: Glue Data Catalog shapes, stored in Glue or in an embedded file."""

from instacart_lake.catalog.base import Catalog
from instacart_lake.catalog.delta import delta_table_input
from instacart_lake.catalog.embedded import EmbeddedCatalog
from instacart_lake.catalog.errors import AlreadyExistsError, CatalogError, EntityNotFoundError
from instacart_lake.catalog.factory import open_catalog
from instacart_lake.catalog.glue import GlueCatalog

__all__ = [
    "AlreadyExistsError", "Catalog", "CatalogError", "EmbeddedCatalog", "EntityNotFoundError",
    "GlueCatalog", "delta_table_input", "open_catalog",
]
