"""Glue job `raw_to_clean` (job 1): validate, clean, standardize and normalize the raw files
into clean Delta tables with a quarantine and DQDL quality gates.

Arguments: --JOB_NAME, --lake_profile (local or aws; the profile's settings come from
instacart_lake/lake.toml and LAKE_* overrides). On Glue the library arrives through
--extra-py-files and Delta through --datalake-formats delta. Reports the counts per table.
"""

from __future__ import annotations

import sys

from instacart_lake.jobs.glue_entry import run_glue_job
from instacart_lake.jobs.raw_to_clean import run_raw_to_clean

ARGUMENTS = ["JOB_NAME", "lake_profile"]


def raw_to_clean(spark, lake, run_id: str) -> dict:
    return {"tables": {run.table.name: run.counts() for run in run_raw_to_clean(spark, lake, run_id)}}


def main(argv: list[str]) -> dict:
    return run_glue_job(argv, ARGUMENTS, raw_to_clean)


if __name__ == "__main__":
    main(sys.argv)
