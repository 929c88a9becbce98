"""Benchmark the order stream on this machine: send + deliver throughput (events per second)
through moto's Kinesis in server mode on loopback, and the end-to-end delay from an event's
PutRecords to its delivered raw file.

    python benchmarks/stream_throughput.py                      # small generated data
    python benchmarks/stream_throughput.py --scale tiny --delay-events 2000

Phase 1 (throughput): every order of the dataset sent as fast as the stream takes them, then
`deliver` until caught up (the configured 5 MiB buffers); each timed alone and together.
Phase 2 (delay): a deliverer following the stream (buffer interval --interval seconds) while
--delay-events events are sent at --rate per second; each event's delay is the time its
object was in place minus the time its PutRecords call returned. Firehose's delay on AWS is
its buffering interval or size, whichever comes first; phase 2 shows the deliverer's own cost
above that. Writes benchmarks/results/stream_<scale>.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path

from moto.server import ThreadedMotoServer

from instacart_lake import storage
from instacart_lake.aws_clients import kinesis_client
from instacart_lake.context import Lake
from instacart_lake.generate import generate_dataset, scale_named
from instacart_lake.stream.dataset import read_orders
from instacart_lake.stream.deliverer import Deliverer
from instacart_lake.stream.events import as_record, order_events
from instacart_lake.stream.local_server import ensure_stream
from instacart_lake.stream.producer import Producer
from instacart_lake.stream.settings import load_stream_settings

RESULTS = Path(__file__).resolve().parent / "results"
SEED = 42


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _throughput(lake: Lake, records) -> dict:
    settings = load_stream_settings()
    client = kinesis_client(lake.config)
    started = time.monotonic()
    sent = Producer(client, settings.stream_name).send(records)
    sent_seconds = time.monotonic() - started
    started = time.monotonic()
    delivered = Deliverer(lake, client, settings).run()
    deliver_seconds = time.monotonic() - started
    events = len(records)
    return {"events": events, "put_calls": sent.put_calls, "objects": len(delivered.objects),
            "records_delivered": delivered.records,
            "send_seconds": round(sent_seconds, 2), "deliver_seconds": round(deliver_seconds, 2),
            "send_events_per_second": round(events / sent_seconds),
            "deliver_events_per_second": round(events / deliver_seconds),
            "send_and_deliver_events_per_second": round(events / (sent_seconds + deliver_seconds))}


def _delay(lake: Lake, records, rate: float) -> dict:
    settings = load_stream_settings()
    client = kinesis_client(lake.config)
    sent_at: dict[str, float] = {}
    position = 0

    def sent(count: int) -> None:
        nonlocal position
        moment = time.time()
        for record in records[position:position + count]:
            sent_at[record.event_id] = moment
        position += count

    objects = []
    deliverer = Deliverer(lake, client, settings, on_object=objects.append)
    deliverer.run()
    follower = threading.Thread(target=deliverer.run, kwargs={"follow": True}, daemon=True)
    follower.start()
    Producer(client, settings.stream_name).send(records, rate=rate, on_sent=sent)
    deadline = time.monotonic() + 120
    while sum(delivered.records for delivered in objects) < len(records) and time.monotonic() < deadline:
        time.sleep(0.1)
    delays = []
    for delivered in list(objects):
        for line in gzip.decompress(storage.read_bytes(delivered.uri)).splitlines():
            event_id = json.loads(line)["event_id"]
            delays.append(delivered.written_at - sent_at[event_id])
    return {"events": len(records), "rate_per_second": rate, "buffer_interval_seconds":
            settings.buffer_interval_seconds, "objects": len(objects),
            "delay_seconds": {"median": round(statistics.median(delays), 3), "p95": round(_percentile(delays, 0.95), 3),
                              "max": round(max(delays), 3)}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--source", type=Path, default=None, help="a dataset folder (default: generated)")
    parser.add_argument("--delay-events", type=int, default=5_000)
    parser.add_argument("--rate", type=float, default=1_000.0)
    parser.add_argument("--interval", type=int, default=1)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update({"AWS_ACCESS_KEY_ID": "benchmark", "AWS_SECRET_ACCESS_KEY": "benchmark",
                       "LAKE_KINESIS_ENDPOINT_URL": f"http://{host}:{port}"})
    with tempfile.TemporaryDirectory() as scratch:
        source = args.source
        if source is None:
            source = Path(scratch) / "data"
            generate_dataset(source, scale_named(args.scale), SEED)
        orders, lines = read_orders(source)
        records = [as_record(event) for event in order_events(orders, lines)]
        lake = Lake.from_environment(root=Path(scratch) / "throughput", profile="local")
        ensure_stream(kinesis_client(lake.config), load_stream_settings())
        throughput = _throughput(lake, records)
        os.environ["LAKE_STREAM_BUFFER_INTERVAL_SECONDS"] = str(args.interval)
        os.environ["LAKE_STREAM_STREAM_NAME"] = "delay-benchmark"
        lake = Lake.from_environment(root=Path(scratch) / "delay", profile="local")
        ensure_stream(kinesis_client(lake.config), load_stream_settings())
        delay = _delay(lake, records[:args.delay_events], args.rate)
    server.stop()
    result = {"scale": args.scale, "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "kinesis": "moto server mode on loopback (in-process thread)",
              "throughput": throughput, "delay": delay}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"stream_{args.scale}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
