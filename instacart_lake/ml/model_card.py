"""Model versions: what one training run made and from what, kept beside its model.

`model_card.json` sits next to the job's model.tar.gz
(<models>/<model version>-train/output/), and records the model version, the training
job, the artifacts, the effective hyperparameters and the metrics (both read from the
job's output.tar.gz), the image, the training channels and the versions of the training
data that the caller passes in. `evaluation.json` beside it holds the model version's
evaluation on the validation users once its scores are in.
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from instacart_lake.ml.artifacts import read_artifact, write_artifact
from instacart_lake.ml.errors import MLStageError
from instacart_lake.ml.job_requests import MODEL_ARCHIVE_NAME, TRAINING_OUTPUT_ARCHIVE_NAME

MODEL_CARD_NAME = "model_card.json"
EVALUATION_NAME = "evaluation.json"
METRICS_FILE_NAME = "metrics.json"
HYPERPARAMETERS_FILE_NAME = "hyperparameters.json"


@dataclass(frozen=True)
class ModelCard:
    model_version: str
    training_job_name: str
    model_artifact_uri: str
    training_output_uri: str
    image_uri: str
    created_at: str
    hyperparameters: Mapping[str, Any]
    metrics: Mapping[str, Any]
    training_channels: Mapping[str, str]
    data_versions: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> "ModelCard":
        try:
            values = json.loads(text)
            return cls(**values)
        except (json.JSONDecodeError, TypeError) as error:
            raise MLStageError(f"{source}: not a model card ({error})") from error


def _sibling(model_artifact_uri: str, name: str) -> str:
    folder, _, file_name = model_artifact_uri.rstrip("/").rpartition("/")
    if file_name != MODEL_ARCHIVE_NAME:
        raise MLStageError(f"{model_artifact_uri}: a model artifact URI ends with /{MODEL_ARCHIVE_NAME}")
    return f"{folder}/{name}"


def model_card_uri(model_artifact_uri: str) -> str:
    return _sibling(model_artifact_uri, MODEL_CARD_NAME)


def training_output_uri(model_artifact_uri: str) -> str:
    """The job's output.tar.gz (the script's SM_OUTPUT_DATA_DIR), beside model.tar.gz."""
    return _sibling(model_artifact_uri, TRAINING_OUTPUT_ARCHIVE_NAME)


def _json_member(archive: tarfile.TarFile, name: str, source: str) -> dict[str, Any]:
    candidates = [member for member in archive.getmembers() if member.name.removeprefix("./") == name]
    if not candidates:
        raise MLStageError(f"{source}: no {name} inside")
    return json.loads(archive.extractfile(candidates[0]).read())


def read_training_output(output_uri: str, s3: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metrics, effective hyperparameters) from a training job's output.tar.gz."""
    data = read_artifact(output_uri, s3)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            return (_json_member(archive, METRICS_FILE_NAME, output_uri),
                    _json_member(archive, HYPERPARAMETERS_FILE_NAME, output_uri))
    except (tarfile.TarError, json.JSONDecodeError) as error:
        raise MLStageError(f"{output_uri}: unreadable training output ({error})") from error


def record_model_card(card: ModelCard, s3: Any = None) -> str:
    """Write the card beside its model; its URI."""
    uri = model_card_uri(card.model_artifact_uri)
    write_artifact(uri, card.to_json().encode("utf-8"), s3)
    return uri


def record_evaluation(card: ModelCard, evaluation: Mapping[str, Any], s3: Any = None) -> str:
    """Write the model version's evaluation beside its card; its URI."""
    uri = _sibling(card.model_artifact_uri, EVALUATION_NAME)
    document = {"model_version": card.model_version, **evaluation}
    write_artifact(uri, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8"), s3)
    return uri


def load_model_card(uri: str, s3: Any = None) -> ModelCard:
    return ModelCard.from_json(read_artifact(uri, s3).decode("utf-8"), uri)
