"""Numbered raw lines and CSV records: every record keeps its file and the 1-based number of
its first line, also when Spark splits a file into several blocks, and job 1 reads exactly
the records that ingest counts (instacart_lake.csv_records)."""

from __future__ import annotations

from csv_record_samples import EVERY_CASE, records_by_definition
from pyspark.sql import functions as F

from instacart_lake.csv_records import RecordCounter
from instacart_lake.jobs.raw_lines import read_csv_records, read_raw_lines

BLOCK_BYTES = 16384


def small_blocks(spark):
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(BLOCK_BYTES))
    return previous


def test_line_numbers_survive_block_splits(spark, tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("header\n" + "".join(f"{n}\n" for n in range(2, 40_002)))
    small = tmp_path / "small.csv"
    small.write_bytes(b'h\r\n"a,b"\r\nlast line without end')
    previous = small_blocks(spark)
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


def test_quoted_records_across_block_splits_keep_their_first_line_number(spark, tmp_path):
    """Every 7th record is a quoted value over three lines; some of them cross a block."""
    body, line, expected, crossings = [b"header\n"], 2, [], 0
    offset = len(body[0])
    for n in range(30_000):
        record = b'"%d\nx\ny"\n' % line if n % 7 == 0 else b"%d\n" % line
        crossings += record.count(b"\n") > 1 and offset // BLOCK_BYTES != (offset + len(record) - 1) // BLOCK_BYTES
        body.append(record)
        expected.append(line)
        offset += len(record)
        line += record.count(b"\n")
    data = b"".join(body)
    path = tmp_path / "quoted.csv"
    path.write_bytes(data)
    counter = RecordCounter()
    counter.feed(data)
    previous = small_blocks(spark)
    try:
        records = read_csv_records(spark, [path.as_uri()])
        numbers = [tuple(r) for r in records.select(
            "line_number", F.regexp_extract("value", r'^"?([0-9]+)', 1).cast("long")).orderBy("line_number").collect()]
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)

    assert crossings > 0
    assert numbers == [(n, n) for n in expected]
    assert counter.finish() == len(expected)


def test_job_1_reads_the_records_that_the_definition_gives(spark, tmp_path):
    path = tmp_path / "products.csv"
    path.write_bytes(EVERY_CASE)

    records = read_csv_records(spark, [path.as_uri()])
    got = [(r.line_number, bytes(r.value)) for r in
           records.select("line_number", F.col("value").cast("binary").alias("value")).orderBy("line_number").collect()]

    assert got == records_by_definition(EVERY_CASE)
    assert got[:3] == [(2, b"1,Chocolate\rChip Cookies,61,19"), (3, b'2,"Two\r\nLines",104,13'),
                       (5, b'3,"Three\nlines\nlong",94,7')]
    assert {r.source_file for r in records.select("source_file").distinct().collect()} == {path.as_uri()}


def test_lines_split_at_line_feeds_only_and_lose_the_cr_of_a_crlf(spark, tmp_path):
    path = tmp_path / "events.json"
    path.write_bytes(b'{"a": "x\ry"}\r\n{"b": 1}\n{"c": "\\""}')

    lines = read_raw_lines(spark, [path.as_uri()], has_header=False)

    assert [tuple(r) for r in lines.select("line_number", "value").orderBy("line_number").collect()] == [
        (1, '{"a": "x\ry"}'), (2, '{"b": 1}'), (3, '{"c": "\\""}')]
