"""The serving store that the prediction API (api/) reads: the gold tables of the current
model version by user and by product (see store.py)."""

from instacart_lake.serving.factory import open_serving_store
from instacart_lake.serving.store import PRODUCT, USER, Item, Pointer, ServingStore, export_version

__all__ = ["PRODUCT", "USER", "Item", "Pointer", "ServingStore", "export_version", "open_serving_store"]
