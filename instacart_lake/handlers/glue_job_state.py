"""Glue Job State Change: when a stage's Glue job run has SUCCEEDED, start the stage after it
(another Glue job, or the training job of a new model version); when it has FAILED, TIMEOUT
or STOPPED, stop the chain with the run's error (detail.message).

The model version comes from the event (its time and a digest of the job run id), so a
redelivered event names the same training job, which SageMaker refuses to create twice.

Environment (set by the template): LAKE_PROFILE (aws, with LAKE_* overrides; also the
--lake_profile of the jobs), IDEMPOTENCY_TABLE, the ML_* settings of
instacart_lake.handlers.ml_settings, POWERTOOLS_LOG_LEVEL (optional).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent
from aws_lambda_powertools.utilities.typing import LambdaContext

from instacart_lake.handlers.ml_settings import ml_settings
from instacart_lake.handlers.services import Clients, handler_clients, idempotency_store, lake_profile, on_lambda
from instacart_lake.handlers.steps import SERVICE, chain_ended, ignored, start_glue_job, started, stopped
from instacart_lake.ml.job_requests import MLStageSettings, build_training_request, new_model_version
from instacart_lake.orchestration.definition import Definition, load_definition

logger = Logger(service=SERVICE)
persistence = idempotency_store()
config = IdempotencyConfig(event_key_jmespath="id")

UNSUCCESSFUL_STATES = frozenset({"FAILED", "TIMEOUT", "STOPPED", "ERROR"})


def model_version_for_run(job_run_id: str, event_time: str) -> str:
    moment = dt.datetime.fromisoformat(event_time.replace("Z", "+00:00"))
    return new_model_version(now=moment, token=hashlib.sha256(job_run_id.encode("utf-8")).hexdigest()[:8])


def start_after_glue_job(event: EventBridgeEvent, clients: Clients, definition: Definition, profile: str,
                         settings: MLStageSettings) -> dict[str, Any]:
    detail = event.detail
    job, state, job_run_id = detail["jobName"], detail["state"], detail["jobRunId"]
    if job not in definition.stage_names or definition.stage(job).runs != "glue_job":
        return ignored(f"Glue job {job} is not a stage of the pipeline")
    if state in UNSUCCESSFUL_STATES:
        return stopped(job, state, detail.get("message"))
    if state != "SUCCEEDED":
        return ignored(f"Glue job {job} is {state}")
    stage = definition.next_stage(job)
    if stage is None:
        return chain_ended(job)
    if stage.runs == "training_job":
        version = model_version_for_run(job_run_id, event.time)
        request = build_training_request(settings, version, data_versions={f"{job}_job_run_id": job_run_id})
        clients.sagemaker.create_training_job(**request)
        logger.info("started training job %s", request["TrainingJobName"])
        return started(stage.name, request["TrainingJobName"], model_version=version)
    return start_glue_job(clients.glue, stage, {"--lake_profile": profile})


@logger.inject_lambda_context
@idempotent(persistence_store=persistence, config=config)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    return start_after_glue_job(event, handler_clients(), load_definition(), lake_profile(),
                                ml_settings(os.environ, on_lambda()))
