"""Reading raw files as numbered lines or CSV records, for job 1 (the IO edge of its transforms).

Both split files at `\\n` only (the text source's default also splits at a lone `\\r`, which
instacart_lake.csv_records takes as data) and drop the `\\r` of a CRLF. Records follow
csv_records: only a line with an odd number of `"` can join others. The pass that numbers
the lines counts those; when a file has any (rare), their numbers are fetched, the records
they make are decided on the driver by the function that ingest's count uses
(csv_records.quoted_records), and one broadcast join applies them. No Python runs per line.
"""

from __future__ import annotations

import re
from itertools import groupby

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from instacart_lake.csv_records import FIRST_DATA_LINE, QuotedRecord, join_lines, quoted_records
from instacart_lake.transforms.raw_to_clean import quote_count

_BASE_SCHEMA = T.StructType([
    T.StructField("file_path", T.StringType(), False),
    T.StructField("block_start", T.LongType(), False),
    T.StructField("source_file", T.StringType(), False),
    T.StructField("row_id_to_line", T.LongType(), False),
])
_LINE_KEY = ["source_file", "line_number"]
_JOINED_SCHEMA = T.StructType([
    T.StructField("source_file", T.StringType(), False),
    T.StructField("line_number", T.LongType(), False),
    T.StructField("_record", T.BinaryType(), True),
    T.StructField("_is_joined", T.BooleanType(), False),
])
"""The lines of the joined records: the opening line with the record's bytes, the lines it
continues over with none (they are dropped)."""


def read_raw_lines(spark: SparkSession, file_uris: list[str], has_header: bool = True) -> DataFrame:
    """One row per data line of the files: `source_file` (the file's URI), `line_number`
    (1-based in the file; with `has_header`, the header is line 1 and is left out) and `value`
    (the line without its line end). Gzipped files (`.gz`, the stream's delivered objects)
    are read decompressed."""
    lines, _ = _numbered_lines(spark, file_uris, find_odd_lines=False)
    return (lines.where(F.col("line_number") > (1 if has_header else 0))
            .select(*_LINE_KEY, _without_line_end(F.col("value")).alias("value")))


def read_csv_records(spark: SparkSession, file_uris: list[str]) -> DataFrame:
    """One row per data record of CSV files with a header (instacart_lake.csv_records):
    `source_file`, `line_number` (the record's first line) and `value` (the record's bytes,
    without its line end; a quoted line end inside it kept as in the file)."""
    lines, odd_lines = _numbered_lines(spark, file_uris, find_odd_lines=True)
    data = lines.where(F.col("line_number") >= FIRST_DATA_LINE)
    joined = {uri: [record for record in quoted_records(odd) if not record.unterminated]
              for uri, odd in odd_lines.items()}
    joined = {uri: records for uri, records in joined.items() if records}
    as_lines = _without_line_end(F.col("value"))
    if not joined:
        return data.select(*_LINE_KEY, as_lines.alias("value"))
    joins = spark.createDataFrame(_joined_lines(data, joined), _JOINED_SCHEMA)
    return (
        data.join(F.broadcast(joins), on=_LINE_KEY, how="left")
        .where(F.col("_is_joined").isNull() | F.col("_record").isNotNull())
        .select(*_LINE_KEY, F.coalesce(F.col("_record").cast("string"), as_lines).alias("value"))
    )


def _numbered_lines(spark: SparkSession, file_uris: list[str], find_odd_lines: bool
                    ) -> tuple[DataFrame, dict[str, list[int]]]:
    """All lines as read (`source_file`, `line_number`, `value` with the `\\r` of a CRLF), and
    with `find_odd_lines` the numbers of each file's lines with an odd number of `"`, in order.

    Spark splits big files into blocks and numbers rows per partition, so line numbers come
    from one small aggregate: the rows in each block, summed in block order within a file,
    give each block's first line. That costs one extra pass over the text, all in the JVM,
    which also counts the odd lines; only when there are some does another pass fetch their
    row ids.
    """
    text = spark.read.option("lineSep", "\n").text(file_uris).select(
        "value",
        F.col("_metadata.file_path").alias("file_path"),
        F.col("_metadata.file_block_start").alias("block_start"),
        F.monotonically_increasing_id().alias("row_id"),
    )
    is_odd = F.col("value").contains('"') & (quote_count(F.col("value")) % 2 == 1)
    aggregates = [F.count(F.lit(1)).alias("lines"), F.min("row_id").alias("first_row_id")]
    if find_odd_lines:
        aggregates.append(F.sum(is_odd.cast("int")).alias("odd_lines"))
    blocks = text.groupBy("file_path", "block_start").agg(*aggregates).collect()
    odd_row_ids: dict[tuple[str, int], list[int]] = {}
    if find_odd_lines and any(block.odd_lines for block in blocks):
        for row in text.where(is_odd).select("file_path", "block_start", "row_id").collect():
            odd_row_ids.setdefault((row.file_path, row.block_start), []).append(row.row_id)
    bases = []
    odd_lines: dict[str, list[int]] = {}
    ordered = sorted(blocks, key=lambda block: (block.file_path, block.block_start))
    for path, file_blocks in groupby(ordered, key=lambda block: block.file_path):
        uri = _as_lake_uri(path)
        lines_before = 0
        odd = []
        for block in file_blocks:
            row_id_to_line = lines_before - block.first_row_id
            bases.append((path, block.block_start, uri, row_id_to_line))
            odd.extend(row_id + row_id_to_line + 1 for row_id in odd_row_ids.get((path, block.block_start), ()))
            lines_before += block.lines
        odd_lines[uri] = sorted(odd)
    base = spark.createDataFrame(bases, _BASE_SCHEMA)
    line_number = F.col("row_id") + F.col("row_id_to_line") + 1
    lines = (text.join(F.broadcast(base), on=["file_path", "block_start"], how="inner")
             .select("source_file", line_number.alias("line_number"), "value"))
    return lines, odd_lines


def _joined_lines(data: DataFrame, joined: dict[str, list[QuotedRecord]]) -> list[tuple]:
    """Rows of _JOINED_SCHEMA for the joined records, whose lines are fetched to the driver."""
    spark = data.sparkSession
    wanted = spark.createDataFrame(
        [(uri, line) for uri, records in joined.items()
         for record in records for line in range(record.first_line, record.last_line + 1)],
        "source_file string, line_number long")
    fetched = data.join(F.broadcast(wanted), on=_LINE_KEY).select(*_LINE_KEY, F.col("value").cast("binary"))
    raw = {(row.source_file, row.line_number): bytes(row.value) for row in fetched.collect()}
    rows = []
    for uri, records in joined.items():
        for record in records:
            lines = range(record.first_line, record.last_line + 1)
            rows.append((uri, record.first_line, join_lines([raw[(uri, line)] for line in lines]), True))
            rows.extend((uri, line, None, True) for line in lines[1:])
    return rows


def _without_line_end(value: Column) -> Column:
    """The line without the `\\r` of a CRLF, its bytes otherwise as read."""
    raw = value.cast("binary")
    return F.when(value.endswith("\r"), raw.substr(F.lit(1), F.octet_length(raw) - 1).cast("string")
                  ).otherwise(value)


def _as_lake_uri(spark_path: str) -> str:
    """Spark reports local files as `file:/path`; the lake writes `file:///path`."""
    return re.sub(r"^file:/+", "file:///", spark_path)
