"""Glue job `clean_to_curated` (job 2): the four Silver feature tables (user_features_1,
user_features_2, up_features, prd_features) from the clean tables, behind their DQDL gate.

Arguments: --JOB_NAME, --lake_profile (local or aws; the profile's settings come from
instacart_lake/lake.toml and LAKE_* overrides). On Glue the library arrives through
--extra-py-files and Delta through --datalake-formats delta. Reports the counts per table.
"""

from __future__ import annotations

import sys

from instacart_lake.jobs.clean_to_curated import run_clean_to_curated
from instacart_lake.jobs.glue_entry import run_glue_job

ARGUMENTS = ["JOB_NAME", "lake_profile"]


def clean_to_curated(spark, lake, run_id: str) -> dict:
    return {"tables": {run.name: run.counts() for run in run_clean_to_curated(spark, lake, run_id)}}


def main(argv: list[str]) -> dict:
    return run_glue_job(argv, ARGUMENTS, clean_to_curated)


if __name__ == "__main__":
    main(sys.argv)
