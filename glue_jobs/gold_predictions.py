"""Glue job `gold_predictions`: one model version's scores published as the gold tables
reorder_scores and next_basket (behind their DQDL gate), and the model version evaluated on
the validation users, the evaluation kept beside its model card. The handler of the scoring
job's state change starts it when the scoring job of the model version has completed.

Arguments: --JOB_NAME, --lake_profile (local or aws; the profile's settings come from
instacart_lake/lake.toml and LAKE_* overrides), --model_card_uri, --scores_uri and
--validation_scores_uri (the folders of the scoring job's CSV files of the inference and
validation sets), and optionally --ground_truth_uri (generated data only: the true reorder
probabilities, for the oracle's F1). On Glue the library arrives through --extra-py-files
and Delta through --datalake-formats delta. Reports the counts per table and the evaluation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from instacart_lake.aws_clients import boto3_client
from instacart_lake.jobs.glue_entry import run_glue_job
from instacart_lake.jobs.gold_predictions import run_gold_predictions
from instacart_lake.locations import uri_to_path

ARGUMENTS = ["JOB_NAME", "lake_profile", "model_card_uri", "scores_uri", "validation_scores_uri"]
OPTIONAL_ARGUMENTS = ["ground_truth_uri"]


def gold_predictions(spark, lake, run_id: str, model_card_uri: str, scores_uri: str, validation_scores_uri: str,
                     ground_truth_uri: str | None = None) -> dict:
    s3 = boto3_client(lake.config, "s3") if model_card_uri.startswith("s3://") else None
    ground_truth = Path(uri_to_path(ground_truth_uri)) if ground_truth_uri else None
    gold = run_gold_predictions(spark, lake, run_id, model_card_uri, scores_uri, validation_scores_uri,
                                ground_truth, s3=s3)
    return {"tables": {run.name: run.counts() for run in gold.tables},
            "details": {"model_version": gold.model_version, "evaluation": gold.evaluation.to_dict(),
                        "evaluation_curves": gold.curves, "evaluation_uri": gold.evaluation_uri}}


def main(argv: list[str]) -> dict:
    given = [name for name in OPTIONAL_ARGUMENTS if f"--{name}" in argv]
    return run_glue_job(argv, ARGUMENTS + given, gold_predictions)


if __name__ == "__main__":
    main(sys.argv)
