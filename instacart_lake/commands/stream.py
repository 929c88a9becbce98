"""`lake stream {start,stop,send,deliver}`: the order stream, locally or on AWS."""

from __future__ import annotations

import argparse
from pathlib import Path

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from instacart_lake.aws_clients import kinesis_client
from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.progress import new_console
from instacart_lake.stream.dataset import read_orders
from instacart_lake.stream.deliverer import Deliverer
from instacart_lake.stream.events import as_record, order_events
from instacart_lake.stream.local_server import start_server, stop_server
from instacart_lake.stream.producer import Producer, with_repeats
from instacart_lake.stream.settings import load_stream_settings

HELP = "the order stream: start or stop the local Kinesis server, send order events, deliver them to raw"


def _rate(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("start", help="start the local Kinesis server (moto) in the background and create the stream")
    actions.add_parser("stop", help="stop the local Kinesis server")
    send = actions.add_parser("send", help="replay a dataset's orders as events, in order time, through PutRecords")
    send.add_argument("--source", type=Path, required=True, metavar="DIR",
                      help="a folder with orders.csv and order_products__prior/__train.csv")
    send.add_argument("--orders", type=int, default=None, metavar="N", help="send the first N orders only")
    send.add_argument("--rate", type=_rate, default=None, metavar="PER_SECOND",
                      help="events per second (default: as fast as the stream takes them)")
    send.add_argument("--repeat", type=_share, default=0.0, metavar="SHARE",
                      help="send this share of the events a second time, later (a producer's retries)")
    send.add_argument("--seed", type=int, default=0, help="seed of --repeat's choice")
    deliver = actions.add_parser("deliver", help="Firehose's part: deliver the stream's records to the raw zone")
    deliver.add_argument("--follow", action="store_true",
                         help="keep delivering as events arrive (default: stop when caught up)")


def run(args: argparse.Namespace, lake: Lake) -> int:
    action = {"start": _start, "stop": _stop, "send": _send, "deliver": _deliver}[args.action]
    try:
        return action(args, lake)
    except EndpointConnectionError as error:
        raise LakeError(f"no Kinesis API at {error.kwargs.get('endpoint_url')}: start the local one with "
                        "`lake stream start`") from None
    except NoCredentialsError:
        raise LakeError("no AWS credentials for Kinesis (the standard chain found none)") from None
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            raise LakeError(f"{error.response['Error'].get('Message', 'no such stream')}: on this machine "
                            "`lake stream start` creates it") from None
        raise


def _start(args: argparse.Namespace, lake: Lake) -> int:
    settings = load_stream_settings()
    state, started = start_server(lake, settings)
    console = new_console()
    verb = "started" if started else "already running"
    console.print(f"Kinesis server {verb} at {state.endpoint_url} (pid {state.pid}); stream {settings.stream_name} "
                  f"with {settings.shard_count} shards")
    return 0


def _stop(args: argparse.Namespace, lake: Lake) -> int:
    state = stop_server(lake)
    console = new_console()
    console.print("no local Kinesis server was running" if state is None
                  else f"stopped the Kinesis server at {state.endpoint_url} (pid {state.pid})")
    return 0


def _send(args: argparse.Namespace, lake: Lake) -> int:
    if args.orders is not None and args.orders < 1:
        raise LakeError(f"--orders must be at least 1, not {args.orders}")
    settings = load_stream_settings()
    orders, lines = read_orders(args.source)
    events = list(order_events(orders, lines))[:args.orders]
    records = list(with_repeats((as_record(event) for event in events), args.repeat, args.seed))
    console = new_console()
    producer = Producer(kinesis_client(lake.config), settings.stream_name)
    with Progress(TextColumn("  sending"), BarColumn(), MofNCompleteColumn(), TextColumn("events"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task("send", total=len(records))
        report = producer.send(records, args.rate, on_sent=lambda count: progress.advance(task, count))
    console.print(f"sent {len(events):,} order events ({report.records - len(events):,} sent twice) to "
                  f"{settings.stream_name} in {report.put_calls:,} PutRecords calls; {report.retried_records:,} "
                  f"failed records and {report.refused_calls:,} refused calls retried")
    return 0


def _deliver(args: argparse.Namespace, lake: Lake) -> int:
    settings = load_stream_settings()
    console = new_console()
    deliverer = Deliverer(lake, kinesis_client(lake.config), settings,
                          on_object=lambda delivered: console.print(
                              f"  {delivered.records:,} records → {delivered.uri}"))
    report = deliverer.run(follow=args.follow)
    console.print(f"delivered {report.records:,} records in {len(report.objects):,} objects"
                  + (f", {report.error_records:,} to the error prefix" if report.error_records else ""))
    return 0
