"""What the export reads, with deltalake (no Spark): one model version's partition of the
gold tables reorder_scores and next_basket (curated zone), and the products with their
aisle and department names (clean zone)."""

from __future__ import annotations

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from instacart_lake.config import LakeConfig
from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.governance import require_served
from instacart_lake.locations import is_local, uri_to_path
from instacart_lake.serving.documents import BASKET_COLUMNS, SCORE_COLUMNS
from instacart_lake.transforms.gold import PARTITION_COLUMN, PUBLISHED_BY

PRODUCT_COLUMNS = {"products": ["product_id", "product_name", "aisle_id", "department_id"],
                   "aisles": ["aisle_id", "aisle"], "departments": ["department_id", "department"]}
"""What the export reads of the clean zone: locally the policy's prediction_api persona must
read it (on AWS the export job's role and its Lake Formation grants bound it)."""


def storage_options(config: LakeConfig) -> dict[str, str]:
    """delta-rs's options for s3:// tables: the profile's region and endpoint (credentials
    come from the standard AWS chain)."""
    options = {"AWS_REGION": config.region} if config.region else {}
    if config.endpoint_url:
        options.update(AWS_ENDPOINT_URL=config.endpoint_url,
                       AWS_ALLOW_HTTP=str(config.endpoint_url.startswith("http://")).lower())
    return options


def open_table(lake: Lake, zone: str, name: str) -> DeltaTable:
    uri = lake.locations.table_uri(zone, name)
    try:
        if is_local(uri):
            return DeltaTable(uri_to_path(uri))
        return DeltaTable(uri, storage_options=storage_options(lake.config))
    except TableNotFoundError:
        raise LakeError(f"{uri}: no Delta table; the gold_predictions stage publishes it") from None


def model_versions(table: DeltaTable) -> list[str]:
    """The model versions of a gold table's partitions, oldest first (versions sort by the
    time their training started)."""
    return sorted(partition[PARTITION_COLUMN] for partition in table.partitions())


def read_partition(table: DeltaTable, model_version: str, columns: list[str]) -> pa.Table:
    return table.to_pyarrow_table(columns=columns, filters=[(PARTITION_COLUMN, "=", model_version)])


def read_gold(lake: Lake, model_version: str | None) -> tuple[str, pa.Table, pa.Table]:
    """The model version (`model_version`, or the newest published one), its baskets and its
    scores. Only a published version is read: one that next_basket (PUBLISHED_BY) holds."""
    baskets_table = open_table(lake, "curated", PUBLISHED_BY)
    versions = model_versions(baskets_table)
    chosen = model_version or (versions[-1] if versions else None)
    if chosen not in versions:
        raise LakeError(f"{lake.locations.table_uri('curated', PUBLISHED_BY)}: no partition of model version "
                        f"{chosen}; the table has {', '.join(versions) or 'none'}")
    if lake.config.is_local:
        require_served(lake.locations, "curated", "next_basket", BASKET_COLUMNS)
        require_served(lake.locations, "curated", "reorder_scores", SCORE_COLUMNS)
    baskets = read_partition(baskets_table, chosen, BASKET_COLUMNS)
    scores = read_partition(open_table(lake, "curated", "reorder_scores"), chosen, SCORE_COLUMNS)
    return chosen, baskets, scores


def read_products(lake: Lake) -> pa.Table:
    """product_id, product_name, aisle, department of every product."""
    if lake.config.is_local:
        for table, columns in PRODUCT_COLUMNS.items():
            require_served(lake.locations, "clean", table, columns)
    products = open_table(lake, "clean", "products").to_pyarrow_table(columns=PRODUCT_COLUMNS["products"])
    aisles = open_table(lake, "clean", "aisles").to_pyarrow_table(columns=PRODUCT_COLUMNS["aisles"])
    departments = open_table(lake, "clean", "departments").to_pyarrow_table(columns=PRODUCT_COLUMNS["departments"])
    return (products.join(aisles, "aisle_id", join_type="left outer")
            .join(departments, "department_id", join_type="left outer")
            .select(["product_id", "product_name", "aisle", "department"])
            .sort_by("product_id"))
