"""Glue Crawler State Change: when the raw zone's crawler has succeeded, start the Glue job of
the stage after it (job 1); when it has failed, stop the chain with the crawler's error.

Environment (set by the template): LAKE_PROFILE (aws, with LAKE_* overrides; also the
--lake_profile of the job), IDEMPOTENCY_TABLE, POWERTOOLS_LOG_LEVEL (optional).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent
from aws_lambda_powertools.utilities.typing import LambdaContext

from instacart_lake.context import Lake
from instacart_lake.crawler import crawler_name
from instacart_lake.handlers.services import handler_clients, idempotency_store, lake_profile
from instacart_lake.handlers.steps import SERVICE, ignored, start_glue_job, stopped
from instacart_lake.orchestration.definition import Definition, load_definition

logger = Logger(service=SERVICE)
persistence = idempotency_store()
config = IdempotencyConfig(event_key_jmespath="id")


def start_after_crawl(event: EventBridgeEvent, glue: Any, crawler: str, definition: Definition,
                      profile: str) -> dict[str, Any]:
    detail = event.detail
    if detail.get("crawlerName") != crawler:
        return ignored(f"crawler {detail.get('crawlerName')} is not the raw zone's")
    if detail.get("state") == "Failed":
        return stopped(crawler, "Failed", detail.get("errorMessage"))
    if detail.get("state") != "Succeeded":
        return ignored(f"crawler {crawler} is {detail.get('state')}")
    stage = definition.next_stage(definition.stage_running("crawler").name)
    return start_glue_job(glue, stage, {"--lake_profile": profile})


@logger.inject_lambda_context
@idempotent(persistence_store=persistence, config=config)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    return start_after_crawl(event, handler_clients().glue, crawler_name(Lake.from_environment()),
                             load_definition(), lake_profile())
