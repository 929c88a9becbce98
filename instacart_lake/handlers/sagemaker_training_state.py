"""SageMaker Training Job State Change: when a model version's training job has Completed,
record its model card (beside the model, with the metrics of its output) and start the
processing job that scores the scored sets with it; when it has Failed or Stopped, stop the
chain with its FailureReason. The event's detail is the job's description, so nothing is
asked of SageMaker but the one new job.

Environment (set by the template): LAKE_PROFILE, IDEMPOTENCY_TABLE, the ML_* settings of
instacart_lake.handlers.ml_settings, POWERTOOLS_LOG_LEVEL (optional).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent
from aws_lambda_powertools.utilities.typing import LambdaContext

from instacart_lake.handlers.ml_settings import ml_settings
from instacart_lake.handlers.services import Clients, handler_clients, idempotency_store, on_lambda
from instacart_lake.handlers.steps import SERVICE, ignored, started, stopped
from instacart_lake.ml.job_requests import MLStageSettings, data_versions_of_tags, is_training_job_name
from instacart_lake.ml.model_card import record_model_card
from instacart_lake.ml.stage import model_card_of_training_job, scoring_request
from instacart_lake.orchestration.definition import Definition, load_definition

logger = Logger(service=SERVICE)
persistence = idempotency_store()
config = IdempotencyConfig(event_key_jmespath="id")

UNSUCCESSFUL_STATUSES = frozenset({"Failed", "Stopped"})


def start_scoring(event: EventBridgeEvent, clients: Clients, settings: MLStageSettings,
                  definition: Definition) -> dict[str, Any]:
    detail = event.detail
    job, status, tags = detail["TrainingJobName"], detail["TrainingJobStatus"], detail.get("Tags") or {}
    if not is_training_job_name(job):
        return ignored(f"training job {job} trains no model version of the lake")
    if status in UNSUCCESSFUL_STATUSES:
        return stopped(job, status, detail.get("FailureReason"))
    if status != "Completed":
        return ignored(f"training job {job} is {status}")
    card = model_card_of_training_job(detail, data_versions_of_tags(tags), clients.s3)
    card_uri = record_model_card(card, clients.s3)
    request = scoring_request(settings, card)
    clients.sagemaker.create_processing_job(**request)
    logger.info("model version %s recorded in %s; started processing job %s",
                card.model_version, card_uri, request["ProcessingJobName"])
    return started(definition.next_stage(definition.stage_running("training_job").name).name,
                   request["ProcessingJobName"], model_version=card.model_version, model_card_uri=card_uri,
                   metrics=dict(card.metrics))


@logger.inject_lambda_context
@idempotent(persistence_store=persistence, config=config)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    return start_scoring(event, handler_clients(), ml_settings(os.environ, on_lambda()), load_definition())
