"""Numbered raw lines: every line keeps its file and 1-based line number, also when Spark
splits a file into several blocks."""

from __future__ import annotations

from pyspark.sql import functions as F

from instacart_lake.jobs.raw_lines import read_raw_lines


def test_line_numbers_survive_block_splits(spark, tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("header\n" + "".join(f"{n}\n" for n in range(2, 40_002)))
    small = tmp_path / "small.csv"
    small.write_bytes(b'h\r\n"a,b"\r\nlast line without end')
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "16384")
    try:
        lines = read_raw_lines(spark, [big.as_uri(), small.as_uri()])
        partitions = lines.rdd.getNumPartitions()
        wrong = lines.where(F.col("source_file") == big.as_uri()).where(
            F.col("value").cast("long") != F.col("line_number")).count()
        small_rows = [tuple(r) for r in lines.where(F.col("source_file") == small.as_uri())
                      .orderBy("line_number").collect()]
        total = lines.count()
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)

    assert partitions > 2
    assert wrong == 0
    assert total == 40_000 + 2
    assert small_rows == [(small.as_uri(), 2, '"a,b"'), (small.as_uri(), 3, "last line without end")]
