"""Writes that die before their commit: the table stays at its previous version, and
remove_orphans deletes their files and nothing live."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from deltalake import DeltaTable
from pyspark.errors import PythonException
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from instacart_lake.delta import EmbeddedDeltaTableIO
from instacart_lake.delta.staging import stage_parquet_files
from instacart_lake.locations import uri_to_path

SCHEMA = "order_id long, user_id long, eval_set string"
ROWS = [(1, 10, "prior"), (2, 11, "train"), (3, 12, None)]


@pytest.fixture
def io(spark) -> EmbeddedDeltaTableIO:
    return EmbeddedDeltaTableIO(spark)


@pytest.fixture
def orders_uri(lake, spark, io) -> str:
    uri = lake.locations.table_uri("clean", "orders")
    io.write(spark.createDataFrame(ROWS, SCHEMA), uri, mode="overwrite", run_id="r1", job_name="j",
             partition_by=["eval_set"])
    return uri


def files_on_disk(uri: str) -> set[str]:
    root = Path(uri_to_path(uri))
    return {str(path) for path in root.rglob("*") if path.is_file() and "_delta_log" not in path.parts}


def test_files_staged_without_a_commit_are_invisible_and_then_removed_as_orphans(spark, io, orders_uri):
    live = set(DeltaTable(uri_to_path(orders_uri)).file_uris())
    # The first half of a write; the process dies before the commit.
    staged = stage_parquet_files(spark.createDataFrame([(9, 19, "prior"), (8, 18, "test")], SCHEMA), orders_uri,
                                 ["eval_set"])
    dead = {f"{uri_to_path(orders_uri)}/{file.path}" for file in staged.files}
    assert len(dead) == 2 and dead <= files_on_disk(orders_uri)

    assert io.version(orders_uri) == 0
    assertDataFrameEqual(io.read(orders_uri), spark.createDataFrame(ROWS, SCHEMA))
    assert io.remove_orphans(orders_uri, older_than=dt.timedelta(hours=1)) == []

    removed = io.remove_orphans(orders_uri, older_than=dt.timedelta(0))

    assert {uri_to_path(uri) for uri in removed} == dead
    assert files_on_disk(orders_uri) == live
    assert not (Path(uri_to_path(orders_uri)) / f"lake_write={staged.write_id}").exists()
    assertDataFrameEqual(io.read(orders_uri), spark.createDataFrame(ROWS, SCHEMA))


def test_files_of_older_versions_are_not_orphans(spark, io, orders_uri):
    io.write(spark.createDataFrame([(5, 15, "test")], SCHEMA), orders_uri, mode="overwrite", run_id="r2",
             job_name="j")

    assert io.remove_orphans(orders_uri, older_than=dt.timedelta(0)) == []
    assertDataFrameEqual(io.read(orders_uri, version=0), spark.createDataFrame(ROWS, SCHEMA))


def test_a_spark_job_that_fails_leaves_the_table_and_its_folder_as_they_were(spark, io, orders_uri):
    before = files_on_disk(orders_uri)

    @F.udf("long")
    def fail_on_order_three(order_id):
        if order_id == 3:
            raise ValueError("order 3 is broken")
        return order_id

    failing = spark.createDataFrame([(4, 14, "prior"), (3, 13, "train")], SCHEMA).withColumn(
        "order_id", fail_on_order_three("order_id")
    )
    with pytest.raises(PythonException, match="order 3 is broken"):
        io.write(failing, orders_uri, mode="append", run_id="r2", job_name="j")

    assert io.version(orders_uri) == 0
    assert files_on_disk(orders_uri) == before
    assertDataFrameEqual(io.read(orders_uri), spark.createDataFrame(ROWS, SCHEMA))
