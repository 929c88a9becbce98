"""Stream object delivered: Firehose wrote an object of order events into the raw zone (its
ObjectCreated event, through EventBridge); write the batch marker an ingest ends with, so the
chain (crawl, then job 1) takes the object, as the local deliverer does after each object.
Firehose itself writes no marker.

Environment (set by the template): LAKE_PROFILE (aws: the lake's buckets, with LAKE_*
overrides), IDEMPOTENCY_TABLE, POWERTOOLS_LOG_LEVEL (optional).
"""

from __future__ import annotations

import hashlib
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent
from aws_lambda_powertools.utilities.typing import LambdaContext

from instacart_lake.handlers.services import handler_clients, idempotency_store
from instacart_lake.handlers.steps import SERVICE, ignored
from instacart_lake.orchestration.definition import batch_marker, load_definition
from instacart_lake.stream.settings import load_stream_settings

logger = Logger(service=SERVICE)
persistence = idempotency_store()
config = IdempotencyConfig(event_key_jmespath="id")


def stream_batch_id(key: str) -> str:
    """One batch per delivered object, named by its key (a redelivered event names it again)."""
    return f"stream-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:20]}"


def mark_delivered_object(event: EventBridgeEvent, s3: Any, stream_prefix: str) -> dict[str, Any]:
    bucket, key = event.detail["bucket"]["name"], event.detail["object"]["key"]
    if not key.startswith(f"{stream_prefix}/"):
        return ignored(f"{key} is not under the stream's prefix {stream_prefix}/")
    batch_id = stream_batch_id(key)
    marker_key = load_definition().raw_files_landed.object_key(batch_id)
    s3.put_object(Bucket=bucket, Key=marker_key, Body=batch_marker(batch_id, [f"s3://{bucket}/{key}"]).encode())
    logger.info("delivered %s: wrote batch marker %s", key, marker_key)
    return {"status": "marked", "batch": batch_id, "marker": f"s3://{bucket}/{marker_key}"}


@logger.inject_lambda_context
@idempotent(persistence_store=persistence, config=config)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    return mark_delivered_object(event, handler_clients().s3, load_stream_settings().prefix_root)
