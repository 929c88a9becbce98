"""Glue job `raw_to_clean` (job 1): validate, clean, standardize and normalize the raw files
into clean Delta tables with a quarantine and DQDL quality gates.

Arguments: --JOB_NAME, --lake_profile (local or aws; the profile's settings come from
instacart_lake/lake.toml and LAKE_* overrides). On Glue the library arrives through
--extra-py-files and Delta through --datalake-formats delta.
"""

from __future__ import annotations

import sys

from instacart_lake.context import Lake
from instacart_lake.job_args import resolve_options
from instacart_lake.jobs.raw_to_clean import run_raw_to_clean
from instacart_lake.runtime import get_runtime

ARGUMENTS = ["JOB_NAME", "lake_profile"]


def main(argv: list[str]) -> None:
    args = resolve_options(argv, ARGUMENTS)
    lake = Lake.from_environment(profile=args["lake_profile"])
    runtime = get_runtime(args["JOB_NAME"], args, lake.config)
    run_raw_to_clean(runtime.spark, lake, args["JOB_RUN_ID"])
    runtime.commit()


if __name__ == "__main__":
    main(sys.argv)
