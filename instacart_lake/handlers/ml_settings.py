"""The ML stage's settings for the SageMaker handlers.

On Lambda (see instacart_lake.handlers.services) they come from the environment that the
template sets:
  LAKE_PROFILE             aws; its ml zone, with LAKE_* overrides (e.g. LAKE_ML_URI)
  ML_CODE_URI              the S3 prefix holding score.py and sourcedir.tar.gz
  SAGEMAKER_ROLE_ARN       the execution role of the SageMaker jobs
  AWS_REGION               set by Lambda
  ML_HYPERPARAMETERS       optional JSON object of hyperparameter overrides
  ML_ID_COLUMNS            optional, leading id columns of the scored CSVs (order_id,product_id)
  ML_TRAINING_INSTANCE_TYPE, ML_SCORING_INSTANCE_TYPE   optional, ml.m5.xlarge
Under `lake run` they are the local runner's: the lake's ml zone and the scripts of ml/.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from instacart_lake.config import load_config
from instacart_lake.context import Lake
from instacart_lake.locations import Locations
from instacart_lake.ml.errors import MLStageError
from instacart_lake.ml.job_requests import SOURCE_ARCHIVE_NAME, MLStageSettings, ml_zone_settings
from instacart_lake.ml.local_runner import local_stage_settings


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name)
    if not value:
        raise MLStageError(f"environment variable {name} is not set")
    return value


def settings_from_environment(environ: Mapping[str, str]) -> MLStageSettings:
    """The settings for the lake of the aws profile, read with `environ`'s LAKE_* overrides,
    and the ML_* variables of the module docstring."""
    locations = Locations(load_config(profile="aws", environ=environ))
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


def ml_settings(environ: Mapping[str, str], on_lambda: bool) -> MLStageSettings:
    if on_lambda:
        return settings_from_environment(environ)
    return local_stage_settings(Lake.from_environment())
