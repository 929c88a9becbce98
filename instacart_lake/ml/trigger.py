"""The trigger of the ML stage: a Lambda handler behind the EventBridge rule that matches the
`curated_to_ml` Glue job's "Glue Job State Change" events.

On a SUCCEEDED run of that job it trains a model version on SageMaker, records its model
card and scores the inference and validation sets in one processing job
(instacart_lake.ml.stage), waiting for each job. Other events (another job, another state)
are acknowledged and ignored.

The model version comes from the event: its time and a digest of the Glue job run id, so
a redelivered event names the same training job, which SageMaker refuses to create twice,
instead of training a second model.

Locations: the `aws` profile of instacart_lake/lake.toml with its LAKE_* environment
overrides (instacart_lake.config), e.g. LAKE_ML_URI=s3://instacart-ml for the ml zone; the
layout in the zone is job_requests.ml_zone_settings.

Configuration (environment variables that the template sets):
  CURATED_TO_ML_JOB_NAME   the Glue job whose success fires the stage
  GOLD_JOB_NAME            the Glue job that publishes and evaluates a model version
  LAKE_ML_URI              optional, the ml zone (default: the aws profile's ml_uri)
  ML_CODE_URI              the S3 prefix holding score.py and sourcedir.tar.gz
  SAGEMAKER_ROLE_ARN       the execution role of the SageMaker jobs
  AWS_REGION               set by Lambda
  ML_HYPERPARAMETERS       optional JSON object of hyperparameter overrides
  ML_ID_COLUMNS            optional, leading id columns of the scored CSVs (order_id,product_id)
  ML_TRAINING_INSTANCE_TYPE, ML_SCORING_INSTANCE_TYPE   optional, ml.m5.xlarge
  ML_JOB_TIMEOUT_SECONDS   optional, how long to wait for each job (default 840: a Lambda
                           runs 900 seconds at most)
  ML_POLL_SECONDS          optional, 30
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from dataclasses import dataclass, replace
from typing import Any, Mapping

from instacart_lake.aws_clients import boto3_client
from instacart_lake.config import LakeConfig, load_config
from instacart_lake.locations import Locations
from instacart_lake.ml.errors import MLStageError
from instacart_lake.ml.job_requests import (
    SOURCE_ARCHIVE_NAME,
    MLStageSettings,
    ml_zone_settings,
    new_model_version,
)
from instacart_lake.ml.sagemaker_jobs import SageMakerJobs
from instacart_lake.ml.stage import JobRunner, run_ml_stage

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(logging.INFO)

GLUE_JOB_STATE_CHANGE = "Glue Job State Change"
LAKE_PROFILE = "aws"
DEFAULT_JOB_TIMEOUT_SECONDS = 840
DEFAULT_POLL_SECONDS = 30


@dataclass(frozen=True)
class AwsClients:
    sagemaker: Any
    s3: Any
    glue: Any


def aws_clients(config: LakeConfig) -> AwsClients:
    """The boto3 clients of one invocation (the trigger fires once per pipeline run)."""
    return AwsClients(sagemaker=boto3_client(config, "sagemaker"), s3=boto3_client(config, "s3"),
                      glue=boto3_client(config, "glue"))


@dataclass(frozen=True)
class GlueJobStateChange:
    job_name: str
    state: str
    job_run_id: str
    time: dt.datetime


def parse_glue_job_state_change(event: Mapping[str, Any]) -> GlueJobStateChange:
    if event.get("detail-type") != GLUE_JOB_STATE_CHANGE:
        raise MLStageError(f"not a {GLUE_JOB_STATE_CHANGE!r} event: detail-type is {event.get('detail-type')!r}")
    detail = event.get("detail") or {}
    missing = [key for key in ("jobName", "state", "jobRunId") if not detail.get(key)]
    if missing or not event.get("time"):
        raise MLStageError(f"{GLUE_JOB_STATE_CHANGE} event without {', '.join(missing or ['time'])}")
    try:
        time = dt.datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    except ValueError as error:
        raise MLStageError(f"{GLUE_JOB_STATE_CHANGE} event time {event['time']!r} is not ISO 8601") from error
    return GlueJobStateChange(detail["jobName"], detail["state"], detail["jobRunId"], time)


def model_version_for_run(change: GlueJobStateChange) -> str:
    digest = hashlib.sha256(change.job_run_id.encode("utf-8")).hexdigest()[:8]
    return new_model_version(now=change.time, token=digest)


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name)
    if not value:
        raise MLStageError(f"environment variable {name} is not set")
    return value


def settings_from_environment(environ: Mapping[str, str]) -> MLStageSettings:
    """The stage's settings for the lake of the `aws` profile, read with `environ`'s LAKE_*
    overrides, and the ML_* variables of the module docstring."""
    locations = Locations(load_config(profile=LAKE_PROFILE, environ=environ))
    code_uri = _required(environ, "ML_CODE_URI").rstrip("/")
    options: dict[str, Any] = {}
    if environ.get("ML_HYPERPARAMETERS"):
        try:
            options["hyperparameters"] = json.loads(environ["ML_HYPERPARAMETERS"])
        except json.JSONDecodeError as error:
            raise MLStageError(f"ML_HYPERPARAMETERS is not JSON: {error}") from error
    if environ.get("ML_ID_COLUMNS"):
        options["id_columns"] = tuple(name.strip() for name in environ["ML_ID_COLUMNS"].split(","))
    if environ.get("ML_TRAINING_INSTANCE_TYPE"):
        options["training_instance_type"] = environ["ML_TRAINING_INSTANCE_TYPE"]
    if environ.get("ML_SCORING_INSTANCE_TYPE"):
        options["scoring_instance_type"] = environ["ML_SCORING_INSTANCE_TYPE"]
    return ml_zone_settings(
        locations,
        region=_required(environ, "AWS_REGION"),
        role_arn=_required(environ, "SAGEMAKER_ROLE_ARN"),
        training_source_uri=f"{code_uri}/{SOURCE_ARCHIVE_NAME}",
        scoring_code_uri=f"{code_uri}/",
        tags={"project": "instacart-lake"},
        **options,
    )


def handle_glue_job_state_change(
    change: GlueJobStateChange,
    trigger_job_name: str,
    settings: MLStageSettings,
    jobs: JobRunner,
    s3: Any = None,
    publication: tuple[Any, str] | None = None,
) -> dict[str, Any]:
    """Run the ML stage when `change` is a successful run of `trigger_job_name`; a summary.
    The handler passes SageMaker jobs; the local pipeline passes LocalJobs and local settings.
    `publication` is (Glue client, job name) of the job that publishes and evaluates the
    scores; None publishes nothing."""
    if change.job_name != trigger_job_name or change.state != "SUCCEEDED":
        LOGGER.info("ignored: job %s is %s", change.job_name, change.state)
        return {"status": "ignored", "job_name": change.job_name, "state": change.state}
    result = run_ml_stage(
        settings, jobs,
        data_versions={"curated_to_ml_job_run_id": change.job_run_id},
        model_version=model_version_for_run(change),
        s3=s3,
    )
    gold_run_id = None
    if publication is not None:
        glue, gold_job_name = publication
        gold_run_id = glue.start_job_run(JobName=gold_job_name, Arguments={
            "--lake_profile": LAKE_PROFILE,
            "--model_card_uri": result.model_card_uri,
            "--scores_uri": result.score_uris["inference"],
            "--validation_scores_uri": result.score_uris["validation"],
        })["JobRunId"]
    return {
        "status": "completed",
        "gold_job_run_id": gold_run_id,
        "model_version": result.model_card.model_version,
        "model_card_uri": result.model_card_uri,
        "training_job_name": result.training_job_name,
        "scoring_job_name": result.scoring_job_name,
        "score_uris": result.score_uris,
        "validation_auc": result.model_card.metrics.get("validation_auc"),
    }


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: configuration from the environment, jobs on SageMaker."""
    change = parse_glue_job_state_change(event)
    settings = settings_from_environment(os.environ)
    clients = aws_clients(replace(load_config(profile=LAKE_PROFILE), region=settings.region))
    jobs = SageMakerJobs(
        clients.sagemaker,
        timeout_seconds=int(os.environ.get("ML_JOB_TIMEOUT_SECONDS", DEFAULT_JOB_TIMEOUT_SECONDS)),
        poll_seconds=int(os.environ.get("ML_POLL_SECONDS", DEFAULT_POLL_SECONDS)),
    )
    trigger_job_name = _required(os.environ, "CURATED_TO_ML_JOB_NAME")
    publication = (clients.glue, _required(os.environ, "GOLD_JOB_NAME"))
    return handle_glue_job_state_change(change, trigger_job_name, settings, jobs, clients.s3, publication)
