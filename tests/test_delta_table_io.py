"""Delta tables through the Delta Spark extension: writes, merges, time travel, history, vacuum,
readers other than Spark, and tables an older writer (delta-rs) made."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from pyspark.errors import PythonException
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from instacart_lake.delta import DeltaTableIO
from instacart_lake.errors import LakeError
from instacart_lake.locations import uri_to_path

SCHEMA = T.StructType(
    [
        T.StructField("order_id", T.LongType()),
        T.StructField("user_id", T.LongType()),
        T.StructField("eval_set", T.StringType()),
        T.StructField("order_date", T.DateType()),
    ]
)
D1, D2, D3 = dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)


@pytest.fixture
def io(spark) -> DeltaTableIO:
    return DeltaTableIO(spark)


@pytest.fixture
def orders_uri(lake) -> str:
    return lake.locations.table_uri("clean", "orders")


def frame(spark, rows, schema=SCHEMA):
    return spark.createDataFrame(rows, schema)


def live_paths(uri: str) -> set[str]:
    return set(DeltaTable(uri_to_path(uri)).file_uris())


def data_files_on_disk(uri: str) -> set[str]:
    root = Path(uri_to_path(uri))
    return {str(path) for path in root.rglob("*.parquet") if "_delta_log" not in path.parts}


def test_first_write_creates_the_table_and_append_adds_rows(spark, io, orders_uri):
    assert not io.exists(orders_uri)
    assert io.version(orders_uri) is None

    first = io.write(frame(spark, [(1, 10, "prior", D1), (2, 10, None, None)]), orders_uri,
                     mode="append", run_id="r1", job_name="clean_orders")
    second = io.write(frame(spark, [(3, 11, "train", D2)]), orders_uri,
                      mode="append", run_id="r2", job_name="clean_orders")

    assert (first, second) == (0, 1)
    assert io.exists(orders_uri) and io.version(orders_uri) == 1
    result = io.read(orders_uri)
    assert result.schema == SCHEMA
    assertDataFrameEqual(result, frame(spark, [(1, 10, "prior", D1), (2, 10, None, None), (3, 11, "train", D2)]))


def test_tables_use_the_protocol_that_delta_3_readers_and_athena_read(spark, io, orders_uri):
    io.write(frame(spark, [(1, 10, "prior", D1)]), orders_uri, mode="overwrite", run_id="r1", job_name="j",
             partition_by=["eval_set"])
    io.merge_by_key(frame(spark, [(1, 10, "prior", D2)]), orders_uri, keys=["order_id"], run_id="r2", job_name="j")

    protocol = DeltaTable(uri_to_path(orders_uri)).protocol()
    assert (protocol.min_reader_version, protocol.min_writer_version) == (1, 2)
    assert not protocol.reader_features and not protocol.writer_features


def test_overwrite_replaces_the_whole_table(spark, io, orders_uri):
    io.write(frame(spark, [(1, 10, "prior", D1), (2, 11, "train", D2)]), orders_uri,
             mode="overwrite", run_id="r1", job_name="j", partition_by=["eval_set"])

    version = io.write(frame(spark, [(5, 12, "test", D3)]), orders_uri,
                       mode="overwrite", run_id="r2", job_name="j", partition_by=["eval_set"])

    assert version == 1
    assertDataFrameEqual(io.read(orders_uri), frame(spark, [(5, 12, "test", D3)]))


def test_overwrite_may_change_the_schema(spark, io, orders_uri):
    io.write(frame(spark, [(1, 10, "prior", D1)]), orders_uri, mode="overwrite", run_id="r1", job_name="j")
    other = frame(spark, [(2, "x")], "order_id long, note string")

    io.write(other, orders_uri, mode="overwrite", run_id="r2", job_name="j")

    assertDataFrameEqual(io.read(orders_uri), other)


def test_replace_partitions_replaces_only_the_partitions_in_the_data(spark, io, orders_uri):
    io.write(frame(spark, [(1, 10, "prior", D1), (2, 11, "train", D2), (3, 12, None, D3)]), orders_uri,
             mode="overwrite", run_id="r1", job_name="j", partition_by=["eval_set"])

    io.write(frame(spark, [(7, 10, "prior", D3), (8, 13, "prior", D3), (9, 14, "test", D1)]), orders_uri,
             mode="overwrite", run_id="r2", job_name="j", replace_partitions=True)

    expected = [(7, 10, "prior", D3), (8, 13, "prior", D3), (9, 14, "test", D1), (2, 11, "train", D2),
                (3, 12, None, D3)]
    assertDataFrameEqual(io.read(orders_uri), frame(spark, expected))


def test_replace_partitions_needs_a_partitioned_table(spark, io, orders_uri):
    io.write(frame(spark, [(1, 10, "prior", D1)]), orders_uri, mode="overwrite", run_id="r1", job_name="j")

    with pytest.raises(LakeError, match="replace_partitions needs a partitioned table"):
        io.write(frame(spark, [(2, 10, "prior", D1)]), orders_uri, mode="overwrite", run_id="r2", job_name="j",
                 replace_partitions=True)


def test_merge_by_key_on_an_unpartitioned_table_rewrites_only_the_files_with_matching_keys(spark, io, orders_uri):
    io.write(frame(spark, [(1, 10, "prior", D1), (2, 10, "prior", D1)]).coalesce(1), orders_uri,
             mode="append", run_id="r1", job_name="j")
    files_v0 = live_paths(orders_uri)
    io.write(frame(spark, [(3, 11, "prior", D2), (4, 11, "train", D2)]).coalesce(1), orders_uri,
             mode="append", run_id="r2", job_name="j")
    files_v1 = live_paths(orders_uri) - files_v0

    version = io.merge_by_key(frame(spark, [(4, 11, "test", D3), (5, 12, "prior", D3)]), orders_uri,
                              keys=["order_id"], run_id="r3", job_name="merge_orders")

    assert version == 2
    expected = [(1, 10, "prior", D1), (2, 10, "prior", D1), (3, 11, "prior", D2), (4, 11, "test", D3),
                (5, 12, "prior", D3)]
    assertDataFrameEqual(io.read(orders_uri), frame(spark, expected))
    after = live_paths(orders_uri)
    assert files_v0 <= after and not files_v1 & after
    metrics = io.history(orders_uri)[0]["operation_metrics"]
    assert (metrics["numTargetRowsUpdated"], metrics["numTargetRowsInserted"]) == ("1", "1")
    assert metrics["numTargetFilesRemoved"] == "1"


def test_merge_by_key_on_a_partitioned_table_moves_rows_between_partitions(spark, io, orders_uri):
    io.write(frame(spark, [(1, 10, "prior", D1), (2, 10, "prior", D1), (3, 11, "train", D2), (6, 13, "test", D1)]),
             orders_uri, mode="overwrite", run_id="r1", job_name="j", partition_by=["eval_set"])

    io.merge_by_key(frame(spark, [(2, 10, "train", D3), (3, 11, "train", D3), (4, 12, None, D2)]), orders_uri,
                    keys=["order_id"], run_id="r2", job_name="merge_orders", partition_by=["eval_set"])

    expected = [(1, 10, "prior", D1), (2, 10, "train", D3), (3, 11, "train", D3), (4, 12, None, D2),
                (6, 13, "test", D1)]
    assertDataFrameEqual(io.read(orders_uri), frame(spark, expected))


def test_merge_by_key_with_the_partition_column_in_the_key_keeps_other_partitions_files(spark, io, orders_uri):
    io.write(frame(spark, [(1, 10, "prior", D1), (2, 11, "train", D2), (3, 12, "test", D3)]), orders_uri,
             mode="overwrite", run_id="r1", job_name="j", partition_by=["eval_set"])
    before = live_paths(orders_uri)

    io.merge_by_key(frame(spark, [(2, 11, "train", D3), (9, 19, "train", D1)]), orders_uri,
                    keys=["eval_set", "order_id"], run_id="r2", job_name="merge_orders")

    expected = [(1, 10, "prior", D1), (2, 11, "train", D3), (9, 19, "train", D1), (3, 12, "test", D3)]
    assertDataFrameEqual(io.read(orders_uri), frame(spark, expected))
    after = live_paths(orders_uri)
    assert {p for p in before if "eval_set=train" not in p} <= after
    assert not {p for p in before if "eval_set=train" in p} & after


def test_merge_by_key_creates_the_table_when_there_is_none(spark, io, orders_uri):
    version = io.merge_by_key(frame(spark, [(1, 10, "prior", D1)]), orders_uri,
                              keys=["order_id"], run_id="r1", job_name="merge_orders", partition_by=["eval_set"])

    assert version == 0
    assertDataFrameEqual(io.read(orders_uri), frame(spark, [(1, 10, "prior", D1)]))
    assert DeltaTable(uri_to_path(orders_uri)).metadata().partition_columns == ["eval_set"]


def test_merge_by_key_refuses_repeated_keys_that_the_table_has_and_commits_nothing(spark, io, orders_uri):
    io.write(frame(spark, [(2, 10, "prior", D1)]), orders_uri, mode="append", run_id="r1", job_name="j")

    with pytest.raises(LakeError, match=r"repeat keys \['order_id'\].*nothing was committed"):
        io.merge_by_key(frame(spark, [(2, 10, "prior", D1), (2, 11, "train", D2)]), orders_uri,
                        keys=["order_id"], run_id="r2", job_name="merge_orders")

    assert io.version(orders_uri) == 0


def test_merge_by_key_refuses_another_partitioning(spark, io, orders_uri):
    io.write(frame(spark, [(1, 10, "prior", D1)]), orders_uri, mode="append", run_id="r1", job_name="j")

    with pytest.raises(LakeError, match=r"partitioned by \[\], not \['eval_set'\]"):
        io.merge_by_key(frame(spark, [(1, 10, "prior", D1)]), orders_uri, keys=["order_id"], run_id="r2",
                        job_name="j", partition_by=["eval_set"])


def test_append_with_a_different_schema_is_refused(spark, io, orders_uri):
    io.write(frame(spark, [(1, 10, "prior", D1)]), orders_uri, mode="append", run_id="r1", job_name="j")
    other = frame(spark, [(2, "x")], "order_id long, note string")

    with pytest.raises(LakeError, match="missing column user_id.*unexpected column note"):
        io.write(other, orders_uri, mode="append", run_id="r2", job_name="j")

    assert io.version(orders_uri) == 0


def test_time_travel_reads_an_older_version(spark, io, orders_uri):
    io.write(frame(spark, [(1, 10, "prior", D1)]), orders_uri, mode="append", run_id="r1", job_name="j")
    io.write(frame(spark, [(2, 11, "train", D2)]), orders_uri, mode="append", run_id="r2", job_name="j")
    io.write(frame(spark, [(3, 12, "test", D3)]), orders_uri, mode="overwrite", run_id="r3", job_name="j")

    assertDataFrameEqual(io.read(orders_uri, version=0), frame(spark, [(1, 10, "prior", D1)]))
    assertDataFrameEqual(io.read(orders_uri, version=1), frame(spark, [(1, 10, "prior", D1), (2, 11, "train", D2)]))
    assertDataFrameEqual(io.read(orders_uri), frame(spark, [(3, 12, "test", D3)]))
    with pytest.raises(LakeError, match="no version 7 \\(the latest is 2\\)"):
        io.read(orders_uri, version=7)


def test_history_ties_every_commit_to_its_job_run(spark, io, orders_uri):
    io.write(frame(spark, [(1, 10, "prior", D1), (2, 11, "train", D2)]), orders_uri,
             mode="overwrite", run_id="run-1", job_name="clean_orders", partition_by=["eval_set"])
    io.merge_by_key(frame(spark, [(2, 11, "train", D3)]), orders_uri,
                    keys=["order_id"], run_id="run-2", job_name="merge_orders")

    history = io.history(orders_uri)

    summary = [(h["version"], h["operation"], h["write_mode"], h["run_id"], h["job_name"]) for h in history]
    assert summary == [
        (1, "MERGE", "merge_by_key", "run-2", "merge_orders"),
        (0, "WRITE", "overwrite", "run-1", "clean_orders"),
    ]
    assert history[1]["rows_written"] == 2
    assert all(isinstance(h["timestamp"], dt.datetime) and h["timestamp"].tzinfo for h in history)
    assert '"run_id": "run-2"' in DeltaTable(uri_to_path(orders_uri)).history(1)[0]["userMetadata"]


def test_delta_rs_duckdb_and_spark_read_the_same_rows(spark, io, orders_uri):
    io.write(frame(spark, [(1, 10, "prior", D1), (2, 11, "train", D2), (3, 12, None, None)]), orders_uri,
             mode="overwrite", run_id="r1", job_name="j", partition_by=["eval_set"])
    io.merge_by_key(frame(spark, [(3, 12, "test", D3), (4, 13, "prior", D1)]), orders_uri,
                    keys=["order_id"], run_id="r2", job_name="j")
    expected = [(1, 10, "prior", D1), (2, 11, "train", D2), (3, 12, "test", D3), (4, 13, "prior", D1)]
    columns = ["order_id", "user_id", "eval_set", "order_date"]
    table = DeltaTable(uri_to_path(orders_uri))

    by_delta_rs = table.to_pyarrow_table().select(columns).to_pylist()
    connection = duckdb.connect()
    connection.register("orders", table.to_pyarrow_dataset())
    by_duckdb = connection.execute(f"select {', '.join(columns)} from orders order by order_id").fetchall()
    by_spark = [tuple(row) for row in io.read(orders_uri).orderBy("order_id").collect()]

    assert sorted(tuple(row[c] for c in columns) for row in by_delta_rs) == expected
    assert by_duckdb == expected
    assert by_spark == expected


def test_files_of_a_write_that_never_committed_are_invisible_and_vacuumed(spark, io, orders_uri):
    io.write(frame(spark, [(1, 10, "prior", D1)]), orders_uri, mode="overwrite", run_id="r1", job_name="j",
             partition_by=["eval_set"])
    live = data_files_on_disk(orders_uri)
    # What a job killed after writing its data files and before its commit leaves behind.
    frame(spark, [(9, 19, "prior", D2)]).write.partitionBy("eval_set").mode("append").parquet(
        f"file://{uri_to_path(orders_uri)}")
    dead = data_files_on_disk(orders_uri) - live
    assert dead

    assertDataFrameEqual(io.read(orders_uri), frame(spark, [(1, 10, "prior", D1)]))
    assert io.vacuum(orders_uri, retain=dt.timedelta(hours=1)) == []

    assert {uri_to_path(path) for path in io.vacuum(orders_uri, retain=dt.timedelta(0))} == dead
    assert data_files_on_disk(orders_uri) == live
    assertDataFrameEqual(io.read(orders_uri), frame(spark, [(1, 10, "prior", D1)]))


def test_vacuum_keeps_what_the_retained_versions_read(spark, io, orders_uri):
    io.write(frame(spark, [(1, 10, "prior", D1)]), orders_uri, mode="overwrite", run_id="r1", job_name="j")
    first = live_paths(orders_uri)
    io.write(frame(spark, [(2, 11, "train", D2)]), orders_uri, mode="overwrite", run_id="r2", job_name="j")
    second = live_paths(orders_uri)

    assert io.vacuum(orders_uri, retain=dt.timedelta(days=7)) == []
    assertDataFrameEqual(io.read(orders_uri, version=0), frame(spark, [(1, 10, "prior", D1)]))

    deleted = {uri_to_path(path) for path in io.vacuum(orders_uri, retain=dt.timedelta(0))}
    assert {uri_to_path(path) for path in first} <= deleted
    assert not {uri_to_path(path) for path in second} & deleted
    assertDataFrameEqual(io.read(orders_uri), frame(spark, [(2, 11, "train", D2)]))


def test_a_spark_job_that_fails_leaves_the_table_as_it_was(spark, io, orders_uri):
    rows = [(1, 10, "prior", D1), (2, 11, "train", D2)]
    io.write(frame(spark, rows), orders_uri, mode="overwrite", run_id="r1", job_name="j")

    @F.udf("long")
    def fail_on_order_three(order_id):
        if order_id == 3:
            raise ValueError("order 3 is broken")
        return order_id

    failing = frame(spark, [(4, 14, "prior", D1), (3, 13, "train", D2)]).withColumn(
        "order_id", fail_on_order_three("order_id"))
    with pytest.raises(PythonException, match="order 3 is broken"):
        io.write(failing, orders_uri, mode="append", run_id="r2", job_name="j")

    assert io.version(orders_uri) == 0
    assertDataFrameEqual(io.read(orders_uri), frame(spark, rows))


def test_a_table_that_delta_rs_committed_reads_and_merges_on(spark, io, orders_uri):
    """Lakes written before the Delta Spark writer had their tables committed by delta-rs."""
    arrow = pa.table({"order_id": pa.array([1, 2], pa.int64()), "user_id": pa.array([10, 11], pa.int64()),
                      "eval_set": ["prior", "train"], "order_date": pa.array([D1, D2], pa.date32())})
    write_deltalake(uri_to_path(orders_uri), arrow, partition_by=["eval_set"])

    assertDataFrameEqual(io.read(orders_uri), frame(spark, [(1, 10, "prior", D1), (2, 11, "train", D2)]))
    version = io.merge_by_key(frame(spark, [(2, 11, "train", D3), (3, 12, "test", D3)]), orders_uri,
                              keys=["order_id"], run_id="r2", job_name="j")

    assert version == 1
    assertDataFrameEqual(io.read(orders_uri),
                         frame(spark, [(1, 10, "prior", D1), (2, 11, "train", D3), (3, 12, "test", D3)]))
