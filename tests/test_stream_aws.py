"""The producer's and the deliverer's requests against moto's Kinesis in server mode (a real
boto3 client on a loopback port): PutRecords within the API's limits, the retry of failed
records, Firehose's object layout, error output and batch markers, and the checkpoint that
lets a killed deliverer deliver every record once. Also `lake stream start` / `stop`."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import re
import socket

import pytest
from moto.server import ThreadedMotoServer

from instacart_lake import storage
from instacart_lake.aws_clients import kinesis_client
from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.locations import uri_to_path
from instacart_lake.orchestration.definition import load_definition
from instacart_lake.stream.checkpoint import Checkpoint, PlannedObject
from instacart_lake.stream.deliverer import Deliverer, checkpoint_uri
from instacart_lake.stream.events import EventRecord
from instacart_lake.stream.local_server import ensure_stream, read_state, start_server, stop_server
from instacart_lake.stream.producer import MAX_BYTES_PER_CALL, Producer, batches, failed_records, with_repeats
from instacart_lake.stream.settings import load_stream_settings

KIB = 1024
OBJECT_NAME = re.compile(r"order_events/ingest_date=\d{4}-\d\d-\d\d/"
                         r"instacart-order-events-to-raw-1-\d{4}(-\d\d){5}-[0-9a-f-]{36}\.gz")


def record(number: int, size: int = 100) -> EventRecord:
    body = json.dumps({"event_id": f"e{number}", "padding": "x" * max(0, size - 40)})
    return EventRecord(f"e{number}", body.encode(), str(number % 7))


@pytest.fixture(scope="module")
def moto_kinesis():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def stream_lake(lake, moto_kinesis, monkeypatch, request):
    """A lake whose Kinesis endpoint is moto, with a stream of its own (two shards)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("LAKE_KINESIS_ENDPOINT_URL", moto_kinesis)
    monkeypatch.setenv("LAKE_STREAM_STREAM_NAME", f"events-{request.node.name[:40].replace('_', '-')}")
    monkeypatch.setenv("LAKE_STREAM_BUFFER_SIZE_MIB", "1")
    lake = Lake.from_environment(root=uri_to_path(lake.locations.zone_uri("raw")).rsplit("/", 1)[0], profile="local")
    ensure_stream(kinesis_client(lake.config), load_stream_settings())
    return lake


def delivered_lines(lake: Lake) -> dict[str, list[bytes]]:
    folder = lake.locations.table_uri("raw", "order_events")
    return {uri: gzip.decompress(storage.read_bytes(uri)).splitlines() for uri in storage.list_files(folder)}


def test_batches_keep_to_500_records_and_5_mib_per_call():
    small = list(batches(record(n) for n in range(1_200)))
    assert [len(batch) for batch in small] == [500, 500, 200]

    large = list(batches(record(n, 900 * KIB) for n in range(12)))
    assert [len(batch) for batch in large] == [5, 5, 2]
    assert all(sum(len(r.data) + len(r.partition_key) for r in batch) <= MAX_BYTES_PER_CALL for batch in large)

    with pytest.raises(LakeError, match="e3: .* over Kinesis's limit"):
        list(batches([record(3, 1025 * KIB)]))


def test_failed_records_are_those_with_an_error_code_in_request_order():
    batch = [record(n) for n in range(4)]
    response = {"FailedRecordCount": 2, "Records": [
        {"SequenceNumber": "1", "ShardId": "shardId-000000000000"},
        {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded"},
        {"SequenceNumber": "2", "ShardId": "shardId-000000000001"},
        {"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service failure."}]}

    assert failed_records(batch, response) == [(batch[1], "ProvisionedThroughputExceededException"),
                                               (batch[3], "InternalFailure")]
    assert failed_records(batch, {"FailedRecordCount": 0, "Records": response["Records"][:1]}) == []


def test_repeats_send_a_share_of_the_records_twice_each_after_its_first_copy():
    sent = [r.event_id for r in with_repeats((record(n) for n in range(2_000)), 0.05, seed=1)]
    repeated = [event_id for event_id in set(sent) if sent.count(event_id) == 2]

    assert sorted(set(sent)) == sorted(f"e{n}" for n in range(2_000))
    assert len(sent) == 2_000 + len(repeated) and 60 < len(repeated) < 140
    first = {event_id: sent.index(event_id) for event_id in repeated}
    assert all(len(sent) - 1 - sent[::-1].index(event_id) > first[event_id] for event_id in repeated)


def test_sent_records_are_delivered_once_in_firehose_layout_with_a_batch_marker(stream_lake):
    settings = load_stream_settings()
    records = [record(n, 800) for n in range(1_500)]
    report = Producer(kinesis_client(stream_lake.config), settings.stream_name).send(records)
    assert (report.records, report.put_calls) == (1_500, 3)

    delivered = Deliverer(stream_lake, kinesis_client(stream_lake.config), settings).run()
    lines = delivered_lines(stream_lake)
    raw = stream_lake.locations.zone_uri("raw")

    assert len(lines) == len(delivered.objects) == 2, "1.2 MB of records, buffers of 1 MiB"
    assert all(OBJECT_NAME.fullmatch(uri.removeprefix(f"{raw}/")) for uri in lines)
    assert sorted(line for object_lines in lines.values() for line in object_lines) == sorted(r.data for r in records)
    markers = [json.loads(storage.read_text(uri)) for uri in storage.list_files(f"{raw}/_batches")]
    assert sorted(file for marker in markers for file in marker["files"]) == sorted(lines)
    landed = load_definition().raw_files_landed
    assert all(landed.matches_key(uri.removeprefix(f"{raw}/")) for uri in storage.list_files(f"{raw}/_batches"))


def test_a_second_deliverer_takes_only_what_arrived_after_the_checkpoint(stream_lake):
    settings = load_stream_settings()
    client = kinesis_client(stream_lake.config)
    producer = Producer(client, settings.stream_name)
    producer.send([record(n) for n in range(300)])
    first = Deliverer(stream_lake, client, settings).run()
    producer.send([record(n) for n in range(300, 420)])
    second = Deliverer(stream_lake, client, settings).run()
    third = Deliverer(stream_lake, client, settings).run()

    assert (first.records, second.records, third.records) == (300, 120, 0)
    assert sorted(line for lines in delivered_lines(stream_lake).values() for line in lines) == sorted(
        record(n).data for n in range(420))


def test_a_deliverer_killed_after_planning_an_object_writes_that_same_object_again(stream_lake):
    """The checkpoint as a deliverer leaves it when killed between its plan and its commit:
    the restarted one rewrites the planned object byte for byte, under the same key, and no other."""
    settings = load_stream_settings()
    client = kinesis_client(stream_lake.config)
    Producer(client, settings.stream_name).send([record(n) for n in range(250)])
    Deliverer(stream_lake, client, settings).run()
    [(uri, _)] = delivered_lines(stream_lake).items()
    written = storage.read_bytes(uri)
    committed = Checkpoint.load(checkpoint_uri(stream_lake, settings))
    object_id = uri.removesuffix(".gz")[-36:]
    storage.delete(uri)
    Checkpoint(committed.uri).plan(PlannedObject(object_id, _arrival_of(uri), dict(committed.positions)))

    restarted = Deliverer(stream_lake, client, settings).run()

    assert [delivered.uri for delivered in restarted.objects] == [uri]
    assert storage.read_bytes(uri) == written
    assert Checkpoint.load(committed.uri).positions == committed.positions
    assert Checkpoint.load(committed.uri).pending is None


def _arrival_of(uri: str) -> str:
    """The arrival time in a delivered object's name, as the plan holds it."""
    stamp = re.search(r"-1-(\d{4})-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-", uri).groups()
    return "{}-{}-{}T{}:{}:{}+00:00".format(*stamp)


def test_a_record_over_firehose_s_limit_goes_to_the_error_prefix_and_the_rest_is_delivered(stream_lake):
    settings = load_stream_settings()
    client = kinesis_client(stream_lake.config)
    oversize = b"y" * (1010 * KIB)
    client.put_record(StreamName=settings.stream_name, Data=oversize, PartitionKey="1")
    Producer(client, settings.stream_name).send([record(1)])

    report = Deliverer(stream_lake, client, settings).run()
    raw = stream_lake.locations.zone_uri("raw")
    [error_uri] = storage.list_files(f"{raw}/_order_event_errors")
    [error] = [json.loads(line) for line in gzip.decompress(storage.read_bytes(error_uri)).splitlines()]

    assert (report.records, report.error_records) == (1, 1)
    assert re.search(r"/_order_event_errors/processing-failed/ingest_date=\d{4}-\d\d-\d\d/", error_uri)
    assert base64.b64decode(error["rawData"]) == oversize
    assert error["errorCode"] == "RecordTooLarge"
    assert [line for lines in delivered_lines(stream_lake).values() for line in lines] == [record(1).data]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_stream_start_runs_the_local_server_in_the_background_and_stop_ends_it(lake, monkeypatch):
    port = _free_port()
    monkeypatch.setenv("LAKE_KINESIS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    lake = Lake.from_environment(root=uri_to_path(lake.locations.zone_uri("raw")).rsplit("/", 1)[0], profile="local")
    settings = load_stream_settings()
    state, started = start_server(lake, settings)
    try:
        again, started_again = start_server(lake, settings)
        description = kinesis_client(lake.config).describe_stream_summary(StreamName=settings.stream_name)
        assert (started, started_again, again.pid, state.port) == (True, False, state.pid, port)
        assert read_state(lake) == state
        assert description["StreamDescriptionSummary"]["OpenShardCount"] == settings.shard_count
    finally:
        stopped = stop_server(lake)
    assert stopped == state
    assert read_state(lake) is None
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    assert stop_server(lake) is None
