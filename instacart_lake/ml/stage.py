"""The ML stage: train a new model version, record its card, score the scored sets
(the inference set, and the keyed validation set for the evaluation).

Its steps apart, none of which waits: the card of a completed training job
(`model_card_of_training_job`, from its DescribeTrainingJob response, which the training
job's state-change event carries) and the scoring request of a model card
(`scoring_request`); the handlers take these steps one event at a time. `train_model_version`
and `score_model_version` chain them with a runner that runs a request to its end (LocalJobs).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Mapping, Protocol

from instacart_lake.ml.job_requests import (
    MLStageSettings,
    build_scoring_request,
    build_training_request,
    model_version_of_training_job,
    new_model_version,
    scored_set_uri,
    scoring_job_name,
)
from instacart_lake.ml.model_card import (
    ModelCard,
    read_training_output,
    record_model_card,
    training_output_uri,
)

LOGGER = logging.getLogger(__name__)


class JobRunner(Protocol):
    def run_training(self, request: Mapping[str, Any]) -> dict[str, Any]: ...

    def run_processing(self, request: Mapping[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ScoringResult:
    """One scoring job: its name and, per scored set, the folder of its scores."""

    job_name: str
    set_uris: dict[str, str]


@dataclass(frozen=True)
class StageResult:
    model_card: ModelCard
    model_card_uri: str
    training_job_name: str
    scoring_job_name: str
    score_uris: dict[str, str]
    """Per scored set (inference, validation), the folder of its scores."""


def model_card_of_training_job(description: Mapping[str, Any], data_versions: Mapping[str, Any],
                               s3: Any = None) -> ModelCard:
    """The card of a completed training job: its model, its metrics and effective
    hyperparameters (read from its output.tar.gz), its image and channels, and
    `data_versions` as given."""
    job_name = description["TrainingJobName"]
    model_uri = description["ModelArtifacts"]["S3ModelArtifacts"]
    output_uri = training_output_uri(model_uri)
    metrics, hyperparameters = read_training_output(output_uri, s3)
    return ModelCard(
        model_version=model_version_of_training_job(job_name),
        training_job_name=job_name,
        model_artifact_uri=model_uri,
        training_output_uri=output_uri,
        image_uri=description["AlgorithmSpecification"]["TrainingImage"],
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        hyperparameters=hyperparameters,
        metrics=metrics,
        training_channels={
            channel["ChannelName"]: channel["DataSource"]["S3DataSource"]["S3Uri"]
            for channel in description["InputDataConfig"]
        },
        data_versions=dict(data_versions),
    )


def scoring_request(settings: MLStageSettings, card: ModelCard) -> dict[str, Any]:
    """The CreateProcessingJob request that scores every scored set with the card's model."""
    return build_scoring_request(settings, card.model_version, card.model_artifact_uri,
                                 scoring_job_name(card.model_version))


def train_model_version(
    settings: MLStageSettings,
    jobs: JobRunner,
    data_versions: Mapping[str, Any],
    model_version: str | None = None,
    s3: Any = None,
) -> tuple[ModelCard, str]:
    """Train a model version and record its card; (card, card URI). `data_versions` says
    which versions of the training data the job read (e.g. the Delta table versions or the
    run id of the job that wrote the sets) and is kept in the card as given."""
    version = model_version or new_model_version()
    request = build_training_request(settings, version)
    card = model_card_of_training_job(jobs.run_training(request), data_versions, s3)
    card_uri = record_model_card(card, s3)
    LOGGER.info("model version %s trained (validation AUC %s), card %s",
                version, card.metrics.get("validation_auc"), card_uri)
    return card, card_uri


def score_model_version(settings: MLStageSettings, jobs: JobRunner, card: ModelCard) -> ScoringResult:
    """Score every scored set with a recorded model version in one processing job. Scoring
    the same version of the same sets again writes the same files in the same place."""
    request = scoring_request(settings, card)
    jobs.run_processing(request)
    return ScoringResult(request["ProcessingJobName"], {name: scored_set_uri(settings, card.model_version, name)
                                    for name in settings.scored_sets})


def run_ml_stage(
    settings: MLStageSettings,
    jobs: JobRunner,
    data_versions: Mapping[str, Any],
    model_version: str | None = None,
    s3: Any = None,
) -> StageResult:
    """Train a new model version, record its card, then score the scored sets with it."""
    card, card_uri = train_model_version(settings, jobs, data_versions, model_version, s3)
    scoring = score_model_version(settings, jobs, card)
    return StageResult(card, card_uri, card.training_job_name, scoring.job_name, scoring.set_uris)
