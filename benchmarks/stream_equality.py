"""The stream's equality check on a generated dataset (default small): the orders replayed
through Kinesis (moto in server mode on loopback) with 5% sent twice, the deliverer
(`lake stream deliver --follow`, its own process) killed with SIGKILL while events arrive and
started again, then job 1; the clean orders and order lines compared row for row with those
of batch ingestion of the same files. Writes benchmarks/results/stream_equality_<scale>.json.

    python benchmarks/stream_equality.py [--scale small]
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from deltalake import DeltaTable
from moto.server import ThreadedMotoServer

from instacart_lake import storage
from instacart_lake.aws_clients import kinesis_client
from instacart_lake.context import Lake
from instacart_lake.generate import generate_dataset, scale_named
from instacart_lake.ingest import ingest
from instacart_lake.jobs.raw_to_clean import run_raw_to_clean
from instacart_lake.locations import uri_to_path
from instacart_lake.runtime import build_local_spark
from instacart_lake.stream.dataset import read_orders
from instacart_lake.stream.events import as_record, order_events
from instacart_lake.stream.local_server import ensure_stream
from instacart_lake.stream.producer import Producer, with_repeats
from instacart_lake.stream.settings import load_stream_settings

RESULTS = Path(__file__).resolve().parent / "results"
SEED = 42
TABLES = ("orders", "order_products__prior", "order_products__train")


def clean_rows(lake: Lake, table: str) -> list[tuple]:
    rows = DeltaTable(uri_to_path(lake.locations.table_uri("clean", table))).to_pyarrow_table().to_pylist()
    return sorted(tuple(row.values()) for row in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--rate", type=float, default=2_000.0)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update({"AWS_ACCESS_KEY_ID": "check", "AWS_SECRET_ACCESS_KEY": "check",
                       "LAKE_KINESIS_ENDPOINT_URL": f"http://{host}:{port}",
                       "LAKE_STREAM_BUFFER_INTERVAL_SECONDS": "1"})
    spark = build_local_spark("stream-equality", driver_memory="3g", shuffle_partitions=4)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "data"
        generate_dataset(source, scale_named(args.scale), SEED)
        batch = Lake.from_environment(root=Path(scratch) / "batch", profile="local")
        ingest(batch, [str(source)], "batch-ingest")
        run_raw_to_clean(spark, batch, "batch-job")
        root = Path(scratch) / "stream"
        lake = Lake.from_environment(root=root, profile="local")
        ingest(lake, [str(source / name) for name in ("aisles.csv", "departments.csv", "products.csv")], "reference")
        settings = load_stream_settings()
        client = kinesis_client(lake.config)
        ensure_stream(client, settings)
        orders, lines = read_orders(source)
        records = list(with_repeats((as_record(event) for event in order_events(orders, lines)), 0.05, SEED))
        deliver = [sys.executable, "-m", "instacart_lake.cli", "--lake-root", str(root), "stream", "deliver"]
        follower = subprocess.Popen([*deliver, "--follow"], stdout=subprocess.DEVNULL)
        folder = lake.locations.table_uri("raw", settings.prefix_root)
        with ThreadPoolExecutor(max_workers=1) as sender:
            sending = sender.submit(Producer(client, settings.stream_name).send, records, args.rate)
            while len(storage.list_files(folder)) < 3:
                time.sleep(0.05)
            follower.send_signal(signal.SIGKILL)
            follower.wait()
            killed_while_sending = not sending.done()
            sending.result()
        subprocess.run(deliver, check=True, stdout=subprocess.DEVNULL)
        delivered = sorted(line for uri in storage.list_files(folder)
                           for line in gzip.decompress(storage.read_bytes(uri)).splitlines())
        runs = {run.table.name: run for run in run_raw_to_clean(spark, lake, "stream-job")}
        equal = {table: clean_rows(lake, table) == clean_rows(batch, table) for table in TABLES}
        rows = {table: len(clean_rows(batch, table)) for table in TABLES}
        result = {"scale": args.scale, "events": len({r.event_id for r in records}), "records_sent": len(records),
                  "killed_while_sending": killed_while_sending,
                  "raw_has_every_record_once": delivered == sorted(r.data for r in records),
                  "event_counts": runs["orders"].events, "clean_rows": rows, "equal_to_batch": equal}
    spark.stop()
    server.stop()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"stream_equality_{args.scale}.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0 if all(equal.values()) and result["raw_has_every_record_once"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
