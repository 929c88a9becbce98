"""What every Glue job script does around its job: resolve the arguments, load the lake's
configuration for the profile, get the runtime (the GlueContext's session on Glue, a local
session elsewhere), run the job, record what it reports and its metrics, commit the Glue job."""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Mapping

from instacart_lake.config import load_config
from instacart_lake.context import Lake
from instacart_lake.job_args import configuration_overrides, resolve_options
from instacart_lake.jobs.job_results import record_job_results
from instacart_lake.monitoring import job_records, write_emf_lines
from instacart_lake.runtime import get_runtime

JobFunction = Callable[..., Any]
STANDARD_ARGUMENTS = ("JOB_NAME", "lake_profile")


def run_glue_job(argv: list[str], arguments: list[str], job: JobFunction) -> Any:
    """Run `job(spark, lake, run_id, **job_arguments)` with Glue's arguments; `arguments` must
    name JOB_NAME and lake_profile, and the job takes the others as keywords; `--LAKE_<KEY>`
    arguments override the configuration as the environment does. A job that
    returns a mapping (its counts and details) has it recorded under its job run id, and the
    metrics declared on it (instacart_lake.monitoring) emitted."""
    args = resolve_options(argv, arguments)
    environ = {**os.environ, **configuration_overrides(argv)}
    lake = Lake(load_config(profile=args["lake_profile"], environ=environ))
    runtime = get_runtime(args["JOB_NAME"], args, lake.config)
    job_arguments = {name: args[name] for name in arguments if name not in STANDARD_ARGUMENTS}
    started = time.monotonic()
    result = job(runtime.spark, lake, args["JOB_RUN_ID"], **job_arguments)
    if isinstance(result, Mapping):
        record_job_results(lake, args["JOB_RUN_ID"], result)
        write_emf_lines(lake, args["JOB_RUN_ID"], job_records(args["JOB_NAME"], args["JOB_RUN_ID"], result,
                                                              time.monotonic() - started))
    runtime.commit()
    return result
