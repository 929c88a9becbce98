"""SageMaker Processing Job State Change: when a model version's scoring job has Completed,
start the Glue job that publishes and evaluates its scores (the stage after scoring), with the
model card and the folders of the scores as its arguments; when it has Failed or Stopped, stop
the chain with its FailureReason.

Environment (set by the template): LAKE_PROFILE (also the jobs' --lake_profile),
IDEMPOTENCY_TABLE, the ML_* settings of instacart_lake.handlers.ml_settings,
GROUND_TRUTH_URI (optional, generated data only: passed on as --ground_truth_uri for the
oracle's F1), POWERTOOLS_LOG_LEVEL (optional).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent
from aws_lambda_powertools.utilities.typing import LambdaContext

from instacart_lake.handlers.ml_settings import ml_settings
from instacart_lake.handlers.services import Clients, handler_clients, idempotency_store, lake_profile, on_lambda
from instacart_lake.handlers.steps import SERVICE, ignored, start_glue_job, stopped
from instacart_lake.ml.job_requests import MLStageSettings, scored_model_version, scored_set_uri
from instacart_lake.ml.model_card import model_card_uri
from instacart_lake.orchestration.definition import Definition, load_definition

logger = Logger(service=SERVICE)
persistence = idempotency_store()
config = IdempotencyConfig(event_key_jmespath="id")

UNSUCCESSFUL_STATUSES = frozenset({"Failed", "Stopped"})


def publication_arguments(detail: dict[str, Any], settings: MLStageSettings, profile: str,
                          ground_truth_uri: str | None) -> dict[str, str]:
    """The gold job's arguments for the model version that the scoring job scored."""
    version = scored_model_version(detail["AppSpecification"])
    [model] = [item["S3Input"]["S3Uri"] for item in detail["ProcessingInputs"] if item["InputName"] == "model"]
    arguments = {
        "--lake_profile": profile,
        "--model_card_uri": model_card_uri(model),
        "--scores_uri": scored_set_uri(settings, version, "inference"),
        "--validation_scores_uri": scored_set_uri(settings, version, "validation"),
    }
    if ground_truth_uri:
        arguments["--ground_truth_uri"] = ground_truth_uri
    return arguments


def start_publication(event: EventBridgeEvent, clients: Clients, settings: MLStageSettings, definition: Definition,
                      profile: str, ground_truth_uri: str | None = None) -> dict[str, Any]:
    detail = event.detail
    job, status = detail["ProcessingJobName"], detail["ProcessingJobStatus"]
    if scored_model_version(detail.get("AppSpecification") or {}) is None:
        return ignored(f"processing job {job} scores no model version of the lake")
    if status in UNSUCCESSFUL_STATUSES:
        return stopped(job, status, detail.get("FailureReason") or detail.get("ExitMessage"))
    if status != "Completed":
        return ignored(f"processing job {job} is {status}")
    stage = definition.next_stage(definition.stage_running("processing_job").name)
    return start_glue_job(clients.glue, stage, publication_arguments(detail, settings, profile, ground_truth_uri))


@logger.inject_lambda_context
@idempotent(persistence_store=persistence, config=config)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    return start_publication(event, handler_clients(), ml_settings(os.environ, on_lambda()), load_definition(),
                             lake_profile(), os.environ.get("GROUND_TRUTH_URI"))
