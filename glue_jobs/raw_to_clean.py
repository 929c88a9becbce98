"""Glue job `raw_to_clean` (job 1): validate, clean, standardize and normalize the raw files
into clean Delta tables with a quarantine and DQDL quality gates.

Arguments: --JOB_NAME, --lake_profile (local or aws; the profile's settings come from
instacart_lake/lake.toml and LAKE_* overrides). On Glue the library arrives through
--extra-py-files and Delta through --datalake-formats delta.
"""

from __future__ import annotations

import sys

from instacart_lake.jobs.glue_entry import run_glue_job
from instacart_lake.jobs.raw_to_clean import run_raw_to_clean

ARGUMENTS = ["JOB_NAME", "lake_profile"]


def main(argv: list[str]) -> None:
    run_glue_job(argv, ARGUMENTS, run_raw_to_clean)


if __name__ == "__main__":
    main(sys.argv)
