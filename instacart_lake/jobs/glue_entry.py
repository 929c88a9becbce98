"""What every Glue job script does around its job: resolve the arguments, load the lake's
configuration for the profile, get the runtime (the GlueContext's session on Glue, a local
session elsewhere), run the job, commit the Glue job."""

from __future__ import annotations

from typing import Any, Callable

from pyspark.sql import SparkSession

from instacart_lake.context import Lake
from instacart_lake.job_args import resolve_options
from instacart_lake.runtime import get_runtime

JobFunction = Callable[[SparkSession, Lake, str], Any]


def run_glue_job(argv: list[str], arguments: list[str], job: JobFunction) -> Any:
    """Run `job(spark, lake, run_id)` with Glue's arguments; `arguments` must name
    JOB_NAME and lake_profile."""
    args = resolve_options(argv, arguments)
    lake = Lake.from_environment(profile=args["lake_profile"])
    runtime = get_runtime(args["JOB_NAME"], args, lake.config)
    result = job(runtime.spark, lake, args["JOB_RUN_ID"])
    runtime.commit()
    return result
