"""Glue job `publish_predictions`: one model version's scores of the inference set published
as the gold tables reorder_scores and next_basket, behind their DQDL gate. The ML trigger
starts it when the scoring job of the model version has succeeded.

Arguments: --JOB_NAME, --lake_profile (local or aws; the profile's settings come from
instacart_lake/lake.toml and LAKE_* overrides), --model_version, --scores_uri (the folder of
the scoring job's CSV files of the inference set). On Glue the library arrives through
--extra-py-files and Delta through --datalake-formats delta.
"""

from __future__ import annotations

import sys

from instacart_lake.jobs.glue_entry import run_glue_job
from instacart_lake.jobs.publish_predictions import run_publish_predictions

ARGUMENTS = ["JOB_NAME", "lake_profile", "model_version", "scores_uri"]


def main(argv: list[str]) -> None:
    run_glue_job(argv, ARGUMENTS, run_publish_predictions)


if __name__ == "__main__":
    main(sys.argv)
