"""Raw files landed: the S3 event notification of a batch marker (one per ingest, listing the
files it landed) starts the raw zone's crawler, the stage after ingest.

Environment (set by the template): LAKE_PROFILE (aws: the lake's buckets and catalog, with
LAKE_* overrides), IDEMPOTENCY_TABLE (the DynamoDB table of the idempotency records),
POWERTOOLS_LOG_LEVEL (optional).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent
from aws_lambda_powertools.utilities.typing import LambdaContext

from instacart_lake.context import Lake
from instacart_lake.crawler import crawler_name
from instacart_lake.handlers.services import handler_clients, idempotency_store
from instacart_lake.handlers.steps import SERVICE, ignored, started
from instacart_lake.orchestration.definition import Definition, load_definition

logger = Logger(service=SERVICE)
persistence = idempotency_store()
config = IdempotencyConfig(event_key_jmespath="Records[*].s3.[bucket.name, object.key, object.sequencer]")


def start_crawler(event: S3Event, glue: Any, crawler: str, definition: Definition) -> dict[str, Any]:
    """Start `crawler` when the event names a batch marker."""
    landed = definition.raw_files_landed
    batches = [record.s3.get_object.key for record in event.records if landed.matches_key(record.s3.get_object.key)]
    if not batches:
        return ignored("no batch marker in the event")
    glue.start_crawler(Name=crawler)
    logger.info("batch %s landed: started crawler %s", ", ".join(batches), crawler)
    return started(definition.stage_running("crawler").name, crawler, batches=batches)


@logger.inject_lambda_context
@idempotent(persistence_store=persistence, config=config)
@event_source(data_class=S3Event)
def handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    return start_crawler(event, handler_clients().glue, crawler_name(Lake.from_environment()), load_definition())
