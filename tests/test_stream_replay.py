"""The stream end to end on tiny generated data: the orders replayed as events through Kinesis
(moto in server mode) with 5% of them sent twice, the deliverer (`lake stream deliver
--follow`, its own process) killed with SIGKILL while the events arrive and started again,
then job 1: the clean tables equal, row for row, those of batch ingestion of the same files,
every event is counted once, and a rerun adds nothing."""

from __future__ import annotations

import gzip
import logging
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from deltalake import DeltaTable
from moto.server import ThreadedMotoServer

from instacart_lake import storage
from instacart_lake.aws_clients import kinesis_client
from instacart_lake.context import Lake
from instacart_lake.generate import generate_dataset, scale_named
from instacart_lake.ingest import ingest
from instacart_lake.jobs.raw_to_clean import run_raw_to_clean
from instacart_lake.locations import uri_to_path
from instacart_lake.schemas import ORDER_EVENT
from instacart_lake.stream.dataset import read_orders
from instacart_lake.stream.events import as_record, order_events
from instacart_lake.stream.local_server import ensure_stream
from instacart_lake.stream.producer import Producer, with_repeats
from instacart_lake.stream.settings import load_stream_settings

SEED = 11
REPEAT_SHARE = 0.05
SEND_RATE = 400
"""Events per second: the send takes a few seconds, so the kill lands while events arrive."""
KILL_AFTER_OBJECTS = 3
STREAM_TABLES = ("orders", "order_products__prior", "order_products__train")
REFERENCE_FILES = ("aisles.csv", "departments.csv", "products.csv")


def clean_rows(lake: Lake, table: str) -> list[tuple]:
    rows = DeltaTable(uri_to_path(lake.locations.table_uri("clean", table))).to_pyarrow_table().to_pylist()
    return sorted(tuple(row.values()) for row in rows)


def quarantined_events(lake: Lake) -> list[tuple]:
    """Where each quarantined event was delivered, its line and its reasons."""
    folder = uri_to_path(lake.locations.quarantine_table_uri(ORDER_EVENT.name))
    if not Path(folder, "_delta_log").exists():
        return []
    rows = DeltaTable(folder).to_pyarrow_table(columns=["source_file", "line_number", "raw_line", "reasons"])
    return sorted(tuple(row.values()) for row in rows.to_pylist())


def delivered_records(lake: Lake) -> list[bytes]:
    folder = lake.locations.table_uri("raw", load_stream_settings().prefix_root)
    return [line for uri in storage.list_files(folder)
            for line in gzip.decompress(storage.read_bytes(uri)).splitlines()]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny")
    generate_dataset(folder, scale_named("tiny"), SEED)
    return folder


@pytest.fixture(scope="module")
def batch_lake(spark, dataset, tmp_path_factory) -> Lake:
    lake = Lake.from_environment(root=tmp_path_factory.mktemp("batch") / "lake", profile="local")
    ingest(lake, [str(dataset)], "batch-ingest")
    run_raw_to_clean(spark, lake, "batch-job")
    return lake


@pytest.fixture(scope="module")
def streamed(dataset, tmp_path_factory):
    """A lake with the reference files ingested and the orders streamed in; the records sent
    and the lake's environment (moto as its Kinesis endpoint)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    root = tmp_path_factory.mktemp("stream") / "lake"
    environment = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                   "LAKE_KINESIS_ENDPOINT_URL": f"http://{host}:{port}", "LAKE_STREAM_BUFFER_INTERVAL_SECONDS": "0",
                   "LAKE_STREAM_SHARD_COUNT": "2"}
    with pytest.MonkeyPatch.context() as patch:
        for name in ("LAKE_PROFILE", "LAKE_ROOT", "LAKE_META_URI", "LAKE_REGION", "LAKE_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        for name, value in environment.items():
            patch.setenv(name, value)
        lake = Lake.from_environment(root=root, profile="local")
        ingest(lake, [str(dataset / name) for name in REFERENCE_FILES], "reference-ingest")
        settings = load_stream_settings()
        client = kinesis_client(lake.config)
        ensure_stream(client, settings)
        orders, lines = read_orders(dataset)
        records = list(with_repeats((as_record(event) for event in order_events(orders, lines)), REPEAT_SHARE, SEED))
        deliver = [sys.executable, "-m", "instacart_lake.cli", "--lake-root", str(root), "stream", "deliver"]
        follower = subprocess.Popen([*deliver, "--follow"], env=dict(os.environ), stdout=subprocess.DEVNULL)
        with ThreadPoolExecutor(max_workers=1) as sender:
            sending = sender.submit(Producer(client, settings.stream_name).send, records, SEND_RATE)
            while len(storage.list_files(lake.locations.table_uri("raw", settings.prefix_root))) < KILL_AFTER_OBJECTS:
                time.sleep(0.05)
            follower.send_signal(signal.SIGKILL)
            follower.wait()
            assert not sending.done(), "the deliverer is killed while events arrive"
            sending.result()
        subprocess.run(deliver, env=dict(os.environ), check=True, stdout=subprocess.DEVNULL)
        yield lake, records
    server.stop()


def test_every_record_sent_is_in_the_raw_zone_once_after_the_kill(streamed):
    lake, records = streamed
    assert sorted(delivered_records(lake)) == sorted(record.data for record in records)


def test_streamed_orders_give_the_clean_tables_of_batch_ingestion(spark, batch_lake, streamed, dataset):
    lake, records = streamed
    runs = {run.table.name: run for run in run_raw_to_clean(spark, lake, "stream-job")}
    orders_sent = len({record.event_id for record in records})

    for table in STREAM_TABLES:
        assert clean_rows(lake, table) == clean_rows(batch_lake, table), table
    assert runs["orders"].events == {"files": len(storage.list_files(lake.locations.table_uri("raw", "order_events"))),
                                     "events": len(records), "clean_events": orders_sent, "quarantined_events": 0,
                                     "dropped_duplicates": len(records) - orders_sent}, quarantined_events(lake)
    assert len(records) - orders_sent > 0.03 * orders_sent

    rerun = {run.table.name: run for run in run_raw_to_clean(spark, lake, "stream-rerun")}
    assert not any(run.changed for run in rerun.values())
    assert clean_rows(lake, "orders") == clean_rows(batch_lake, "orders")
