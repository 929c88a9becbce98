"""Delta tables of the lake, through the Delta Spark extension (DeltaTableIO)."""

from instacart_lake.delta.table_io import DeltaTableIO

__all__ = ["DeltaTableIO"]
