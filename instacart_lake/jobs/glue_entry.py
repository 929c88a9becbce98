"""What every Glue job script does around its job: resolve the arguments, load the lake's
configuration for the profile, get the runtime (the GlueContext's session on Glue, a local
session elsewhere), run the job, record what it reports, commit the Glue job."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from instacart_lake.context import Lake
from instacart_lake.job_args import resolve_options
from instacart_lake.jobs.job_results import record_job_results
from instacart_lake.runtime import get_runtime

JobFunction = Callable[..., Any]
STANDARD_ARGUMENTS = ("JOB_NAME", "lake_profile")


def run_glue_job(argv: list[str], arguments: list[str], job: JobFunction) -> Any:
    """Run `job(spark, lake, run_id, **job_arguments)` with Glue's arguments; `arguments` must
    name JOB_NAME and lake_profile, and the job takes the others as keywords. A job that
    returns a mapping (its counts and details) has it recorded under its job run id."""
    args = resolve_options(argv, arguments)
    lake = Lake.from_environment(profile=args["lake_profile"])
    runtime = get_runtime(args["JOB_NAME"], args, lake.config)
    job_arguments = {name: args[name] for name in arguments if name not in STANDARD_ARGUMENTS}
    result = job(runtime.spark, lake, args["JOB_RUN_ID"], **job_arguments)
    if isinstance(result, Mapping):
        record_job_results(lake, args["JOB_RUN_ID"], result)
    runtime.commit()
    return result
