"""Glue job `curated_to_ml` (job 3): the ML-ready sets for SageMaker XGBoost (training,
validation and inference CSV channels) and the ml_candidates Delta table.

Arguments: --JOB_NAME, --lake_profile (local or aws; the profile's settings come from
instacart_lake/lake.toml and LAKE_* overrides). On Glue the library arrives through
--extra-py-files and Delta through --datalake-formats delta. Reports the rows per set and
the Delta versions it read and wrote.
"""

from __future__ import annotations

import sys

from instacart_lake.jobs.curated_to_ml import run_curated_to_ml
from instacart_lake.jobs.glue_entry import run_glue_job

ARGUMENTS = ["JOB_NAME", "lake_profile"]


def curated_to_ml(spark, lake, run_id: str) -> dict:
    result = run_curated_to_ml(spark, lake, run_id)
    return {"tables": result["sets"],
            "details": {"read_versions": result["read_versions"], "candidates_version": result["candidates_version"]}}


def main(argv: list[str]) -> dict:
    return run_glue_job(argv, ARGUMENTS, curated_to_ml)


if __name__ == "__main__":
    main(sys.argv)
