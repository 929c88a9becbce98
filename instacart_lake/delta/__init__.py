"""Delta tables of the lake: one interface (DeltaTableIO), two backends (Spark-Delta, embedded)."""

from instacart_lake.delta.embedded import EmbeddedDeltaTableIO
from instacart_lake.delta.table_io import DeltaTableIO, open_table_io

__all__ = ["DeltaTableIO", "EmbeddedDeltaTableIO", "open_table_io"]
