"""Which files an upsert by key looks at: the log's partition values and key statistics narrow them."""

from __future__ import annotations

import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import DeltaTable
from pyspark.sql import types as T

from instacart_lake.delta import EmbeddedDeltaTableIO
from instacart_lake.delta.merge_plan import KeyProfile, candidate_files, profile_keys
from instacart_lake.delta.snapshot import live_files, snapshot_actions
from instacart_lake.locations import uri_to_path

SCHEMA = T.StructType(
    [T.StructField("order_id", T.LongType()), T.StructField("eval_set", T.StringType())]
)


def write_three_files(spark, uri: str) -> None:
    """One file per write: orders 1-2 (prior), 3-4 (train), 5-6 (prior)."""
    io = EmbeddedDeltaTableIO(spark)
    for rows in ([(1, "prior"), (2, "prior")], [(3, "train"), (4, "train")], [(5, "prior"), (6, "prior")]):
        io.write(spark.createDataFrame(rows, SCHEMA).coalesce(1), uri, mode="append", run_id="r", job_name="j",
                 partition_by=["eval_set"])


def candidates_for(uri: str, profile: KeyProfile) -> list[int]:
    """The candidate files, each named by the smallest order_id it holds."""
    actions = snapshot_actions(DeltaTable(uri_to_path(uri)))
    files = candidate_files(actions, live_files(actions, ["eval_set"]), profile)
    folder = uri_to_path(uri)
    return sorted(pc.min(pq.read_table(f"{folder}/{file.path}")["order_id"]).as_py() for file in files)


def test_key_ranges_and_partition_values_narrow_the_files(spark, lake):
    uri = lake.locations.table_uri("clean", "orders")
    write_three_files(spark, uri)
    everything = candidates_for(uri, KeyProfile(rows=0, ranges={}, partition_values={}))

    by_range = candidates_for(uri, KeyProfile(rows=2, ranges={"order_id": (2, 3)}, partition_values={}))
    by_partition = candidates_for(uri, KeyProfile(rows=2, ranges={}, partition_values={"eval_set": {"prior"}}))
    by_both = candidates_for(
        uri, KeyProfile(rows=1, ranges={"order_id": (6, 9)}, partition_values={"eval_set": {"prior"}})
    )

    assert everything == [1, 3, 5]
    assert by_range == [1, 3]
    assert by_partition == [1, 5]
    assert by_both == [5]


def test_profile_of_incoming_keys(spark):
    source = spark.createDataFrame([(4, "train"), (9, "prior"), (None, "prior")], SCHEMA)

    profile = profile_keys(source, ["eval_set", "order_id"], ["eval_set"], "file:///t")

    assert profile == KeyProfile(rows=3, ranges={"order_id": (4, 9)}, partition_values={"eval_set": {"train", "prior"}})
