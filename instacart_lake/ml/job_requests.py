"""The SageMaker requests of the ML stage: one CreateTrainingJob and one CreateProcessingJob
per model version, built as plain dictionaries (boto3's request shapes). The handlers send
them to SageMaker; the local runner runs the same dictionaries in a subprocess.

Layout in the ml zone (`ml_zone_settings`, every URI from instacart_lake.locations):
- sets/train/, sets/validation/: CSV, no header, label then features (training channels);
- sets/inference/, sets/validation_ids/: the scored sets, CSV, no header, the id columns
  (order_id, product_id) then the same features;
- models/<model version>-train/output/: model.tar.gz (xgboost-model), output.tar.gz
  (metrics.json, hyperparameters.json) and model_card.json, as SageMaker names them;
- scores/model_version=<model version>/<set name>/: the scoring job's CSV files for each
  scored set (`scored_set_uri`), e.g. .../inference/ and .../validation/.

Training is script mode on the XGBoost framework image: `sagemaker_program` names the
entry point inside `sagemaker_submit_directory` (a sourcedir.tar.gz on S3, or a folder for
the local runner), and every hyperparameter value is a JSON-encoded string, as the
SageMaker Python SDK sends them. Scoring is one processing job on the same image that runs
`python3 score.py` from the code input over every scored set: each set is mounted at
/opt/ml/processing/input/data/<set name>, score.py keeps the relative paths, and the one
output folder is uploaded to scores/model_version=<model version>/.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping

from instacart_lake.locations import Locations
from instacart_lake.ml.errors import MLStageError
from instacart_lake.ml.images import xgboost_image_uri
from instacart_lake.versions import platform_version

DATA_VERSION_TAG_PREFIX = "data_version:"
MODEL_VERSION_PREFIX = "reorder-"
TRAINING_PROGRAM = "train.py"
SCORING_PROGRAM = "score.py"
SOURCE_ARCHIVE_NAME = "sourcedir.tar.gz"
MODEL_ARCHIVE_NAME = "model.tar.gz"
TRAINING_OUTPUT_ARCHIVE_NAME = "output.tar.gz"
CONTAINER_LOG_LEVEL = 20

PROCESSING_MODEL_DIR = "/opt/ml/processing/model"
PROCESSING_CODE_DIR = "/opt/ml/processing/input/code"
PROCESSING_INPUT_DIR = "/opt/ml/processing/input/data"
PROCESSING_OUTPUT_DIR = "/opt/ml/processing/output"
RESERVED_INPUT_NAMES = ("code", "model")

METRIC_DEFINITIONS = (
    {"Name": "validation:auc", "Regex": r"validation_auc=([0-9.eE+-]+)"},
    {"Name": "validation:logloss", "Regex": r"validation_logloss=([0-9.eE+-]+)"},
    {"Name": "best_iteration", "Regex": r"best_iteration=([0-9]+)"},
)


@dataclass(frozen=True)
class MLStageSettings:
    """Where the ML stage reads and writes, and how big its jobs are.

    `hyperparameters` are overrides only: the training script's defaults apply to the
    others, and the effective values come back in the training output.
    `training_source_uri` is the `sagemaker_submit_directory` (holding train.py);
    `scoring_code_uri` the folder holding score.py. `scored_sets` maps each set the scoring
    job scores (a name, used as its input name and folder) to its CSV folder.
    """

    region: str
    role_arn: str
    train_uri: str
    validation_uri: str
    scored_sets: Mapping[str, str]
    models_uri: str
    scores_uri: str
    training_source_uri: str
    scoring_code_uri: str
    xgboost_version: str = field(default_factory=lambda: platform_version("sagemaker_xgboost"))
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    id_columns: tuple[str, ...] = ("order_id", "product_id")
    training_instance_type: str = "ml.m5.xlarge"
    scoring_instance_type: str = "ml.m5.xlarge"
    volume_size_gb: int = 30
    max_training_seconds: int = 3600
    max_scoring_seconds: int = 3600
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.scored_sets:
            raise MLStageError("scored_sets names no set to score")
        for name in self.scored_sets:
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,63}", name) or name in RESERVED_INPUT_NAMES:
                raise MLStageError(f"scored set name {name!r} must be 1 to 63 letters, digits, _ or - "
                                   f"and not {' or '.join(RESERVED_INPUT_NAMES)}")

    @property
    def image_uri(self) -> str:
        return xgboost_image_uri(self.region, self.xgboost_version)


def ml_zone_settings(locations: Locations, **settings: Any) -> MLStageSettings:
    """Settings with the ml zone's standard layout (see the module docstring); the other
    fields (region, role_arn, training_source_uri, scoring_code_uri, ...) as keywords, which
    may also replace a location of the layout."""
    layout = {
        "train_uri": locations.ml_set_uri("train"),
        "validation_uri": locations.ml_set_uri("validation"),
        "scored_sets": {
            "inference": locations.ml_set_uri("inference"),
            "validation": locations.ml_set_uri("validation_ids"),
        },
        "models_uri": locations.ml_models_uri,
        "scores_uri": locations.ml_scores_uri,
    }
    return MLStageSettings(**{**layout, **settings})


def new_model_version(now: dt.datetime | None = None, token: str | None = None) -> str:
    """A model version id, e.g. reorder-20250101-120000-1a2b3c4d: the UTC time, then a token
    (8 random hex digits unless given), so versions sort by creation time and do not collide."""
    moment = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    suffix = token if token is not None else uuid.uuid4().hex[:8]
    if not re.fullmatch(r"[a-z0-9]{1,16}", suffix):
        raise MLStageError(f"model version token {suffix!r} must be 1 to 16 lowercase letters or digits")
    return f"{MODEL_VERSION_PREFIX}{moment:%Y%m%d-%H%M%S}-{suffix}"


def training_job_name(model_version: str) -> str:
    return f"{model_version}-train"


def is_training_job_name(job_name: str) -> bool:
    """Whether `job_name` is the training job of a model version (training_job_name)."""
    return bool(re.fullmatch(rf"{MODEL_VERSION_PREFIX}\d{{8}}-\d{{6}}-[a-z0-9]{{1,16}}-train", job_name))


def model_version_of_training_job(job_name: str) -> str:
    """The model version that the training job `job_name` trains."""
    version = job_name.removesuffix(training_job_name(""))
    if version == job_name or not version:
        raise MLStageError(f"{job_name!r} is not the name of a model version's training job")
    return version


def scoring_job_name(model_version: str) -> str:
    """A fresh processing job name for the model version (SageMaker job names are unique,
    and a model version may be scored again)."""
    return f"{model_version}-score-{uuid.uuid4().hex[:8]}"


def scores_uri(settings: MLStageSettings, model_version: str) -> str:
    """The scoring job's output folder for a model version: one subfolder per scored set."""
    return f"{settings.scores_uri.rstrip('/')}/model_version={model_version}"


def scored_set_uri(settings: MLStageSettings, model_version: str, set_name: str) -> str:
    """The folder of the scores of one scored set by a model version."""
    if set_name not in settings.scored_sets:
        raise MLStageError(f"no scored set {set_name!r}; the scored sets are {', '.join(settings.scored_sets)}")
    return f"{scores_uri(settings, model_version)}/{set_name}"


def scored_model_version(app_specification: Mapping[str, Any]) -> str | None:
    """The model version that a scoring job's arguments name (build_scoring_request); None for
    a processing job that is no model version's scoring job."""
    arguments = list(app_specification.get("ContainerArguments") or [])
    if "--model_version" not in arguments or arguments[-1] == "--model_version":
        return None
    return arguments[arguments.index("--model_version") + 1]


def encode_hyperparameters(values: Mapping[str, Any]) -> dict[str, str]:
    """Hyperparameters as SageMaker takes them: every value a JSON-encoded string."""
    return {name: json.dumps(value) for name, value in values.items()}


def folder_prefix(uri: str) -> str:
    """A folder's URI as an S3Prefix that matches its objects alone: sets/validation/ and not
    also sets/validation_ids/..., which the bare prefix sets/validation would."""
    return f"{uri.rstrip('/')}/"


def _tags(settings: MLStageSettings, model_version: str,
          data_versions: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    tags = {**settings.tags, "model_version": model_version,
            **{f"{DATA_VERSION_TAG_PREFIX}{name}": value for name, value in (data_versions or {}).items()}}
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def data_versions_of_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The versions of the training data that a training job's tags carry (see build_training_request)."""
    return {key.removeprefix(DATA_VERSION_TAG_PREFIX): value for key, value in tags.items()
            if key.startswith(DATA_VERSION_TAG_PREFIX)}


def _channel(name: str, uri: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix",
            "S3Uri": uri,
            "S3DataDistributionType": "FullyReplicated",
        }},
        "ContentType": "text/csv",
        "CompressionType": "None",
        "InputMode": "File",
    }


def build_training_request(settings: MLStageSettings, model_version: str,
                           data_versions: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The CreateTrainingJob request that trains `model_version` with ml/train.py; the versions
    of the training data (e.g. the run id of the job that wrote the sets) ride along as tags,
    so that the handler of the job's end can write them into the model card."""
    job_name = training_job_name(model_version)
    script_mode = {
        "sagemaker_program": TRAINING_PROGRAM,
        "sagemaker_submit_directory": settings.training_source_uri,
        "sagemaker_region": settings.region,
        "sagemaker_container_log_level": CONTAINER_LOG_LEVEL,
        "sagemaker_job_name": job_name,
    }
    return {
        "TrainingJobName": job_name,
        "AlgorithmSpecification": {
            "TrainingImage": settings.image_uri,
            "TrainingInputMode": "File",
            "MetricDefinitions": [dict(definition) for definition in METRIC_DEFINITIONS],
        },
        "HyperParameters": encode_hyperparameters({**settings.hyperparameters, **script_mode}),
        "RoleArn": settings.role_arn,
        "InputDataConfig": [
            _channel("train", folder_prefix(settings.train_uri)),
            _channel("validation", folder_prefix(settings.validation_uri)),
        ],
        "OutputDataConfig": {"S3OutputPath": settings.models_uri},
        "ResourceConfig": {
            "InstanceType": settings.training_instance_type,
            "InstanceCount": 1,
            "VolumeSizeInGB": settings.volume_size_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": settings.max_training_seconds},
        "Tags": _tags(settings, model_version, data_versions),
    }


def _processing_input(name: str, uri: str, local_path: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }


def build_scoring_request(
    settings: MLStageSettings,
    model_version: str,
    model_artifact_uri: str,
    job_name: str,
) -> dict[str, Any]:
    """The CreateProcessingJob request that scores every scored set with the model at
    `model_artifact_uri` (a model.tar.gz): the set <name> is mounted at
    PROCESSING_INPUT_DIR/<name> and its scores land in scored_set_uri(settings, model_version, name)."""
    return {
        "ProcessingJobName": job_name,
        "ProcessingResources": {"ClusterConfig": {
            "InstanceCount": 1,
            "InstanceType": settings.scoring_instance_type,
            "VolumeSizeInGB": settings.volume_size_gb,
        }},
        "AppSpecification": {
            "ImageUri": settings.image_uri,
            "ContainerEntrypoint": ["python3", f"{PROCESSING_CODE_DIR}/{SCORING_PROGRAM}"],
            "ContainerArguments": [
                "--model_dir", PROCESSING_MODEL_DIR,
                "--input_dir", PROCESSING_INPUT_DIR,
                "--output_dir", PROCESSING_OUTPUT_DIR,
                "--id_columns", ",".join(settings.id_columns),
                "--model_version", model_version,
            ],
        },
        "ProcessingInputs": [
            _processing_input("code", settings.scoring_code_uri, PROCESSING_CODE_DIR),
            _processing_input("model", model_artifact_uri, PROCESSING_MODEL_DIR),
            *(_processing_input(name, folder_prefix(uri), f"{PROCESSING_INPUT_DIR}/{name}")
              for name, uri in settings.scored_sets.items()),
        ],
        "ProcessingOutputConfig": {"Outputs": [{
            "OutputName": "scores",
            "S3Output": {
                "S3Uri": folder_prefix(scores_uri(settings, model_version)),
                "LocalPath": PROCESSING_OUTPUT_DIR,
                "S3UploadMode": "EndOfJob",
            },
        }]},
        "StoppingCondition": {"MaxRuntimeInSeconds": settings.max_scoring_seconds},
        "RoleArn": settings.role_arn,
        "Tags": _tags(settings, model_version),
    }
