"""The producer: event records to a Kinesis data stream through PutRecords.

Batches stay within the API's limits (500 records and 5 MiB per call, 1 MiB per record,
partition keys included). A call can succeed with some of its records failed
(`FailedRecordCount`, an `ErrorCode` on each failed entry, in request order): those are sent
again, alone, after an exponential backoff with full jitter, as the Kinesis documentation
asks; so is a whole call refused for throughput. Kinesis delivers at least once, and so does
this producer: a record whose call timed out may be in the stream twice.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from botocore.exceptions import ClientError

from instacart_lake.errors import LakeError
from instacart_lake.stream.events import EventRecord
from instacart_lake.stream.settings import MIB

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * MIB
MAX_BYTES_PER_RECORD = 1 * MIB
RETRIED_CALL_ERRORS = frozenset({"ProvisionedThroughputExceededException", "KMSThrottlingException",
                                 "LimitExceededException", "InternalFailure", "ServiceUnavailable"})

log = logging.getLogger(__name__)


def record_size(record: EventRecord) -> int:
    """What a record counts against the limits: its data and its partition key."""
    return len(record.data) + len(record.partition_key.encode("utf-8"))


def batches(records: Iterable[EventRecord], max_records: int = MAX_RECORDS_PER_CALL) -> Iterator[list[EventRecord]]:
    """The records in order, cut into PutRecords calls within the API's limits."""
    batch: list[EventRecord] = []
    size = 0
    for record in records:
        record_bytes = record_size(record)
        if record_bytes > MAX_BYTES_PER_RECORD:
            raise LakeError(f"event {record.event_id}: {record_bytes:,} bytes, over Kinesis's limit of "
                            f"{MAX_BYTES_PER_RECORD:,} bytes per record")
        if batch and (len(batch) == max_records or size + record_bytes > MAX_BYTES_PER_CALL):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += record_bytes
    if batch:
        yield batch


def failed_records(batch: list[EventRecord], response: dict) -> list[tuple[EventRecord, str]]:
    """The records of a PutRecords call that Kinesis did not take, with their ErrorCode
    (the response's entries are in the order of the request's records)."""
    if not response.get("FailedRecordCount"):
        return []
    return [(record, entry["ErrorCode"]) for record, entry in zip(batch, response["Records"]) if entry.get("ErrorCode")]


def with_repeats(records: Iterable[EventRecord], rate: float, seed: int = 0,
                 max_delay: int = 200) -> Iterator[EventRecord]:
    """The records, each also sent a second time with probability `rate`, up to `max_delay`
    records later: a producer's retry after a lost acknowledgement, as Kinesis allows."""
    chooser = random.Random(seed)
    later: dict[int, list[EventRecord]] = {}
    position = 0
    for record in records:
        yield record
        if chooser.random() < rate:
            later.setdefault(position + chooser.randint(1, max_delay), []).append(record)
        yield from later.pop(position, [])
        position += 1
    for position in sorted(later):
        yield from later[position]


@dataclass
class SendReport:
    records: int = 0
    put_calls: int = 0
    retried_records: int = 0
    refused_calls: int = 0


@dataclass
class Producer:
    client: Any
    stream_name: str
    max_attempts: int = 10
    base_delay_seconds: float = 0.05
    max_delay_seconds: float = 5.0
    sleep: Callable[[float], None] = time.sleep

    def backoff(self, attempt: int) -> float:
        """Full jitter: a uniform wait up to base * 2**attempt, capped."""
        return random.uniform(0, min(self.max_delay_seconds, self.base_delay_seconds * 2 ** attempt))

    def put(self, batch: list[EventRecord], report: SendReport) -> None:
        """Put a batch, sending failed records again until every one is in the stream."""
        pending = batch
        for attempt in range(self.max_attempts):
            report.put_calls += 1
            try:
                response = self.client.put_records(
                    StreamName=self.stream_name,
                    Records=[{"Data": record.data, "PartitionKey": record.partition_key} for record in pending])
            except ClientError as error:
                code = error.response["Error"]["Code"]
                if code not in RETRIED_CALL_ERRORS:
                    raise LakeError(f"PutRecords to {self.stream_name} refused: {code}: "
                                    f"{error.response['Error'].get('Message', '')}") from None
                report.refused_calls += 1
                log.info("PutRecords refused (%s), attempt %d", code, attempt + 1)
                self.sleep(self.backoff(attempt))
                continue
            failed = failed_records(pending, response)
            report.records += len(pending) - len(failed)
            if not failed:
                return
            report.retried_records += len(failed)
            log.info("%d of %d records failed (%s), attempt %d", len(failed), len(pending),
                     ", ".join(sorted({code for _, code in failed})), attempt + 1)
            pending = [record for record, _ in failed]
            self.sleep(self.backoff(attempt))
        raise LakeError(f"PutRecords to {self.stream_name}: {len(pending)} records still failing after "
                        f"{self.max_attempts} attempts")

    def send(self, records: Iterable[EventRecord], rate: float | None = None,
             on_sent: Callable[[int], None] = lambda count: None) -> SendReport:
        """Send every record; with `rate`, no more than that many records per second (in calls
        of about a fifth of a second's worth each)."""
        report = SendReport()
        max_records = MAX_RECORDS_PER_CALL if rate is None else max(1, min(MAX_RECORDS_PER_CALL, int(rate / 5)))
        started = time.monotonic()
        for batch in batches(records, max_records):
            if rate is not None:
                wait = started + report.records / rate - time.monotonic()
                if wait > 0:
                    self.sleep(wait)
            self.put(batch, report)
            on_sent(len(batch))
        return report
