"""Firehose's part, on this machine: read the data stream's shards, buffer by size and time
(the buffering hints), write GZIP objects of newline-delimited records (Firehose's
AppendDelimiterToRecord) under the raw zone's stream prefix in Firehose's object layout, and
a batch marker per object, the way an ingest ends, so the chain (crawl, job 1) takes it.

Records over Firehose's record limit go to the error prefix as Firehose's error records
(`processing-failed`, the data in base64). Positions are kept in a checkpoint
(instacart_lake.stream.checkpoint): a deliverer killed at any point and started again
delivers every record once. Without `follow`, it stops when every shard is caught up (it has
delivered everything sent before); with it, it keeps polling, once a second when idle.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from botocore.exceptions import ClientError

from instacart_lake import storage
from instacart_lake.context import Lake
from instacart_lake.orchestration.definition import batch_marker
from instacart_lake.stream.checkpoint import Checkpoint, PlannedObject
from instacart_lake.stream.layout import object_key
from instacart_lake.stream.settings import StreamSettings

FIREHOSE_MAX_RECORD_BYTES = 1000 * 1024
"""Firehose's largest record, before base64 encoding."""
DELIMITER = b"\n"
RECORDS_PER_CALL = 10_000
SHARD_POLL_SECONDS = 0.2
"""At most five GetRecords calls a second per shard: Kinesis's read limit."""
IDLE_POLL_SECONDS = 1.0
ERROR_OUTPUT_TYPE = "processing-failed"
THROTTLING = frozenset({"ProvisionedThroughputExceededException", "KMSThrottlingException"})

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamRecord:
    shard_id: str
    sequence_number: str
    data: bytes
    arrival: dt.datetime


@dataclass(frozen=True)
class DeliveredObject:
    uri: str
    records: int
    error_records: int
    written_at: float
    """time.time() when the object was in place."""


@dataclass
class DeliverReport:
    objects: list[DeliveredObject] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(delivered.records for delivered in self.objects)

    @property
    def error_records(self) -> int:
        return sum(delivered.error_records for delivered in self.objects)


def newline_delimited(records: list[StreamRecord]) -> bytes:
    """An object's content before compression: each record's data and a line end."""
    return b"".join(record.data + DELIMITER for record in records)


def gzipped(content: bytes) -> bytes:
    """GZIP with no time in its header, so that writing the same records again gives the same bytes."""
    return gzip.compress(content, mtime=0)


def error_records(records: list[StreamRecord], moment: dt.datetime) -> bytes:
    """Firehose's error output: one JSON line per failed record, its data in base64."""
    millis = int(moment.timestamp() * 1000)
    return b"".join(json.dumps({
        "attemptsMade": 1, "arrivalTimestamp": int(record.arrival.timestamp() * 1000),
        "errorCode": "RecordTooLarge",
        "errorMessage": f"{len(record.data):,} bytes, over Firehose's {FIREHOSE_MAX_RECORD_BYTES:,} per record",
        "attemptEndingTimestamp": millis, "rawData": base64.b64encode(record.data).decode("ascii"),
        "kinesisMetadata": {"shardId": record.shard_id, "sequenceNumber": record.sequence_number},
    }).encode("utf-8") + DELIMITER for record in records)


def ordered(records: list[StreamRecord], shard_order: list[str]) -> list[StreamRecord]:
    """Records by shard, then by sequence number: one content for the same records, whatever
    the order they were read in."""
    rank = {shard_id: index for index, shard_id in enumerate(shard_order)}
    return sorted(records, key=lambda record: (rank[record.shard_id], int(record.sequence_number)))


def record_bytes(record: StreamRecord) -> int:
    return len(record.data) + len(DELIMITER)


def split_at_size(records: list[StreamRecord], limit: int) -> tuple[list[StreamRecord], list[StreamRecord]]:
    """The first records that fit in `limit` bytes (at least one), and the rest: an object of
    a full buffer. Records are in read order, so the head takes a prefix of each shard."""
    total = 0
    for index, record in enumerate(records):
        total += record_bytes(record)
        if total > limit and index > 0:
            return records[:index], records[index:]
    return records, []


def checkpoint_uri(lake: Lake, settings: StreamSettings) -> str:
    return lake.locations.meta_uri(f"stream/checkpoint-{settings.delivery_stream_name}.json")


class Deliverer:
    def __init__(self, lake: Lake, client: Any, settings: StreamSettings,
                 on_object: Callable[[DeliveredObject], None] = lambda delivered: None):
        self.lake = lake
        self.client = client
        self.settings = settings
        self.on_object = on_object
        self.checkpoint = Checkpoint.load(checkpoint_uri(lake, settings))
        self.shards = [shard["ShardId"] for shard in self._list_shards()]
        self.report = DeliverReport()

    def _list_shards(self) -> list[dict]:
        shards, token = [], None
        while True:
            page = (self.client.list_shards(NextToken=token) if token
                    else self.client.list_shards(StreamName=self.settings.stream_name))
            shards.extend(page["Shards"])
            token = page.get("NextToken")
            if not token:
                return shards

    def _iterator(self, shard_id: str, after: str | None) -> str:
        position = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after}
                    if after else {"ShardIteratorType": "TRIM_HORIZON"})
        return self.client.get_shard_iterator(StreamName=self.settings.stream_name, ShardId=shard_id,
                                              **position)["ShardIterator"]

    def _get_records(self, shard_id: str, iterator: str, last_read: str | None) -> dict:
        """One GetRecords call, with a new iterator when the old one expired and a wait when throttled."""
        try:
            return self.client.get_records(ShardIterator=iterator, Limit=RECORDS_PER_CALL)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "ExpiredIteratorException":
                return self.client.get_records(ShardIterator=self._iterator(shard_id, last_read),
                                               Limit=RECORDS_PER_CALL)
            if code in THROTTLING:
                time.sleep(IDLE_POLL_SECONDS)
                return {"Records": [], "NextShardIterator": iterator, "MillisBehindLatest": 1}
            raise

    def _write(self, records: list[StreamRecord], planned: PlannedObject) -> None:
        """Write a planned object (and its errors and batch marker), then commit the positions."""
        moment = dt.datetime.fromisoformat(planned.arrival)
        settings = self.settings
        raw = self.lake.locations.zone_uri("raw")
        records = ordered(records, self.shards)
        delivered = [record for record in records if len(record.data) <= FIREHOSE_MAX_RECORD_BYTES]
        failed = [record for record in records if len(record.data) > FIREHOSE_MAX_RECORD_BYTES]
        uri = f"{raw}/{object_key(settings.prefix, settings.delivery_stream_name, moment, planned.object_id)}"
        if delivered:
            storage.write_bytes_atomic(uri, gzipped(newline_delimited(delivered)))
        if failed:
            error_key = object_key(settings.error_prefix, settings.delivery_stream_name, moment,
                                   planned.object_id, ERROR_OUTPUT_TYPE)
            storage.write_bytes_atomic(f"{raw}/{error_key}", gzipped(error_records(failed, moment)))
        if delivered:
            batch_id = f"stream-{planned.object_id}"
            storage.write_text_atomic(self.lake.locations.raw_batch_uri(batch_id), batch_marker(batch_id, [uri]))
        self.checkpoint.commit()
        written = DeliveredObject(uri, len(delivered), len(failed), time.time())
        self.report.objects.append(written)
        self.on_object(written)
        log.info("delivered %d records to %s", len(delivered), uri)

    def _flush(self, records: list[StreamRecord]) -> None:
        last = {}
        for record in records:
            if record.shard_id not in last or int(record.sequence_number) > int(last[record.shard_id]):
                last[record.shard_id] = record.sequence_number
        oldest = min(record.arrival for record in records)
        planned = PlannedObject(str(uuid.uuid4()), oldest.isoformat(), last)
        self.checkpoint.plan(planned)
        self._write(records, planned)

    def _redo_pending(self) -> None:
        """Write again the object a killed deliverer had planned: the same records, from the
        committed positions up to the planned last sequence numbers."""
        planned = self.checkpoint.pending
        records: list[StreamRecord] = []
        for shard_id, last_sequence in planned.last_sequence.items():
            after = self.checkpoint.positions.get(shard_id)
            iterator = self._iterator(shard_id, after)
            while iterator is not None:
                response = self._get_records(shard_id, iterator, after)
                taken = [r for r in self._records(shard_id, response) if int(r.sequence_number) <= int(last_sequence)]
                records.extend(taken)
                if taken:
                    after = taken[-1].sequence_number
                if after is not None and int(after) >= int(last_sequence):
                    break
                iterator = response.get("NextShardIterator")
        self._write(records, planned)

    @staticmethod
    def _records(shard_id: str, response: dict) -> list[StreamRecord]:
        return [StreamRecord(shard_id, record["SequenceNumber"], record["Data"],
                             record["ApproximateArrivalTimestamp"].astimezone(dt.timezone.utc))
                for record in response["Records"]]

    def run(self, follow: bool = False) -> DeliverReport:
        if self.checkpoint.pending is not None:
            self._redo_pending()
        iterators = {shard_id: self._iterator(shard_id, self.checkpoint.positions.get(shard_id))
                     for shard_id in self.shards}
        last_read = dict(self.checkpoint.positions)
        buffer: list[StreamRecord] = []
        buffered_bytes = 0
        buffer_started = 0.0
        while iterators:
            pass_started = time.monotonic()
            caught_up = True
            for shard_id in list(iterators):
                response = self._get_records(shard_id, iterators[shard_id], last_read.get(shard_id))
                records = self._records(shard_id, response)
                if records:
                    if not buffer:
                        buffer_started = time.monotonic()
                    buffer.extend(records)
                    buffered_bytes += sum(record_bytes(record) for record in records)
                    last_read[shard_id] = records[-1].sequence_number
                caught_up = caught_up and not records and response.get("MillisBehindLatest", 0) == 0
                if response.get("NextShardIterator") is None:
                    del iterators[shard_id]
                else:
                    iterators[shard_id] = response["NextShardIterator"]
            while buffered_bytes >= self.settings.buffer_size_bytes:
                full, buffer = split_at_size(buffer, self.settings.buffer_size_bytes)
                self._flush(full)
                buffered_bytes = sum(record_bytes(record) for record in buffer)
                buffer_started = time.monotonic()
            is_due = buffer and time.monotonic() - buffer_started >= self.settings.buffer_interval_seconds
            if is_due or (buffer and caught_up and not follow):
                self._flush(buffer)
                buffer, buffered_bytes = [], 0
            if caught_up and not follow:
                break
            pause = (IDLE_POLL_SECONDS if caught_up else SHARD_POLL_SECONDS) - (time.monotonic() - pass_started)
            if pause > 0:
                time.sleep(pause)
        if buffer:
            self._flush(buffer)
        return self.report
