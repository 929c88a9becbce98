"""Reading raw CSV files as numbered lines, for job 1 (the IO edge of its transforms)."""

from __future__ import annotations

from itertools import groupby

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

_BASE_SCHEMA = T.StructType([
    T.StructField("source_file", T.StringType(), False),
    T.StructField("block_start", T.LongType(), False),
    T.StructField("row_id_to_line", T.LongType(), False),
])


def _as_lake_uri(spark_path):
    """Spark reports local files as `file:/path`; the lake writes `file:///path`."""
    return F.regexp_replace(spark_path, r"^file:/+", "file:///")


def read_raw_lines(spark: SparkSession, file_uris: list[str], has_header: bool = True) -> DataFrame:
    """One row per data line of the files: `source_file` (the file's URI), `line_number`
    (1-based in the file; with `has_header`, the header is line 1 and is left out) and `value`
    (the line). Gzipped files (`.gz`, the stream's delivered objects) are read decompressed.

    Spark splits big files into blocks and numbers rows per partition, so line numbers come
    from one small aggregate: the rows in each block, summed in block order within a file,
    give each block's first line. That costs one extra pass over the text, all in the JVM.
    """
    text = spark.read.text(file_uris).select(
        "value",
        _as_lake_uri(F.col("_metadata.file_path")).alias("source_file"),
        F.col("_metadata.file_block_start").alias("block_start"),
        F.monotonically_increasing_id().alias("row_id"),
    )
    blocks = (
        text.groupBy("source_file", "block_start")
        .agg(F.count(F.lit(1)).alias("lines"), F.min("row_id").alias("first_row_id"))
        .collect()
    )
    bases = []
    ordered = sorted(blocks, key=lambda block: (block.source_file, block.block_start))
    for _, file_blocks in groupby(ordered, key=lambda block: block.source_file):
        lines_before = 0
        for block in file_blocks:
            bases.append((block.source_file, block.block_start, lines_before - block.first_row_id))
            lines_before += block.lines
    base = spark.createDataFrame(bases, _BASE_SCHEMA)
    line_number = F.col("row_id") + F.col("row_id_to_line") + 1
    return (
        text.join(F.broadcast(base), on=["source_file", "block_start"], how="inner")
        .select("source_file", line_number.alias("line_number"), "value")
        .where(F.col("line_number") > (1 if has_header else 0))
    )
