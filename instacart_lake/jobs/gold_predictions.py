"""The step after a model version's scoring job, the same locally and on Glue: publish the
gold tables, evaluate the model version on the validation users (its figures and its
curves), and keep the evaluation beside the model card; glue_entry emits it as metrics."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from instacart_lake.context import Lake
from instacart_lake.jobs.evaluate_model import evaluate_model_version
from instacart_lake.jobs.publish_predictions import run_publish_predictions
from instacart_lake.jobs.quality_gate import GatedTableRun
from instacart_lake.ml.evaluation import Evaluation
from instacart_lake.ml.model_card import load_model_card, record_evaluation


@dataclass(frozen=True)
class GoldPredictions:
    model_version: str
    tables: list[GatedTableRun]
    evaluation: Evaluation
    curves: dict
    evaluation_uri: str


def run_gold_predictions(spark: SparkSession, lake: Lake, run_id: str, model_card_uri: str, scores_uri: str,
                         validation_scores_uri: str, ground_truth: Path | None = None,
                         s3: Any = None) -> GoldPredictions:
    """Publish and evaluate the model version of the card at `model_card_uri`, from its
    scores of the inference set (`scores_uri`) and of the validation set
    (`validation_scores_uri`). `ground_truth` (generated data only) adds the oracle; `s3`
    is the boto3 client for artifacts on S3."""
    card = load_model_card(model_card_uri, s3)
    tables = run_publish_predictions(spark, lake, run_id, card.model_version, scores_uri)
    evaluation, curves = evaluate_model_version(spark, lake, card.model_version, validation_scores_uri,
                                                ground_truth)
    evaluation_uri = record_evaluation(card, evaluation.to_dict(), s3)
    return GoldPredictions(card.model_version, tables, evaluation, curves, evaluation_uri)
