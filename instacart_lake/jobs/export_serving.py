"""The step after gold_predictions: one model version of the gold tables exported to the
serving store that the prediction API reads (instacart_lake.serving). The items are written
under their model version, then the store's pointer is switched to it, so the API moves from
the old version to the new one at once. Exporting a version again writes the same items."""

from __future__ import annotations

from itertools import chain

from instacart_lake.context import Lake
from instacart_lake.serving import Pointer, ServingStore, export_version
from instacart_lake.serving.documents import product_items, product_names, user_items
from instacart_lake.serving.gold_tables import read_gold, read_products

JOB_NAME = "export_serving"


def run_export_serving(lake: Lake, store: ServingStore, model_version: str | None = None) -> Pointer:
    """Export `model_version` (default: the newest in the gold tables) to `store`."""
    version, baskets, scores = read_gold(lake, model_version)
    products = read_products(lake)
    items = chain(product_items(products), user_items(baskets, scores, product_names(products)))
    return export_version(store, version, items)


def export_results(pointer: Pointer) -> dict:
    """What the job reports: the items written per kind and the version now current."""
    return {"tables": {"serving.users": {"rows_written": pointer.users},
                       "serving.products": {"rows_written": pointer.products}},
            "details": {"serving_model_version": pointer.model_version, "exported_at": pointer.exported_at}}
