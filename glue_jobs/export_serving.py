"""Glue job `export_serving`: the newest model version of the gold tables (or
--model_version) exported to the serving store of the prediction API: DynamoDB for the aws
profile, the embedded store in the lake's meta location for the local profile. The handler
of the gold_predictions job's state change starts it.

Arguments: --JOB_NAME, --lake_profile (local or aws), optionally --model_version and, for
the aws profile, --serving_table (the DynamoDB table; the Glue job's default arguments set
it). The tables are read with deltalake on the driver: the job uses no Spark executor.
Reports the items written per kind.
"""

from __future__ import annotations

import sys

from instacart_lake.jobs.export_serving import export_results, run_export_serving
from instacart_lake.jobs.glue_entry import run_glue_job
from instacart_lake.serving import open_serving_store

ARGUMENTS = ["JOB_NAME", "lake_profile"]
OPTIONAL_ARGUMENTS = ["model_version", "serving_table"]


def export_serving(spark, lake, run_id: str, model_version: str | None = None,
                   serving_table: str | None = None) -> dict:
    store = open_serving_store(lake, serving_table)
    return export_results(run_export_serving(lake, store, model_version))


def main(argv: list[str]) -> dict:
    given = [name for name in OPTIONAL_ARGUMENTS if f"--{name}" in argv]
    return run_glue_job(argv, ARGUMENTS + given, export_serving)


if __name__ == "__main__":
    main(sys.argv)
