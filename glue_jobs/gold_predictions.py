"""Glue job `gold_predictions`: one model version's scores published as the gold tables
reorder_scores and next_basket (behind their DQDL gate), and the model version evaluated on
the validation users, the evaluation kept beside its model card. The ML trigger starts it
when the scoring job of the model version has succeeded.

Arguments: --JOB_NAME, --lake_profile (local or aws; the profile's settings come from
instacart_lake/lake.toml and LAKE_* overrides), --model_card_uri, --scores_uri and
--validation_scores_uri (the folders of the scoring job's CSV files of the inference and
validation sets). On Glue the library arrives through --extra-py-files and Delta through
--datalake-formats delta.
"""

from __future__ import annotations

import sys

from instacart_lake.aws_clients import boto3_client
from instacart_lake.jobs.glue_entry import run_glue_job
from instacart_lake.jobs.gold_predictions import run_gold_predictions

ARGUMENTS = ["JOB_NAME", "lake_profile", "model_card_uri", "scores_uri", "validation_scores_uri"]


def gold_predictions(spark, lake, run_id: str, model_card_uri: str, scores_uri: str, validation_scores_uri: str):
    s3 = boto3_client(lake.config, "s3") if model_card_uri.startswith("s3://") else None
    return run_gold_predictions(spark, lake, run_id, model_card_uri, scores_uri, validation_scores_uri, s3=s3)


def main(argv: list[str]) -> None:
    run_glue_job(argv, ARGUMENTS, gold_predictions)


if __name__ == "__main__":
    main(sys.argv)
