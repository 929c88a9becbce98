"""What every handler returns: the next stage started, the chain stopped by a failed job, the
end of the chain, or an event that is not the handler's to act on. The values are logged and
returned (the idempotency record keeps them, and the local event loop shows them)."""

from __future__ import annotations

from typing import Any, Mapping

from aws_lambda_powertools import Logger

from instacart_lake.errors import LakeError
from instacart_lake.orchestration.definition import Stage

SERVICE = "instacart-lake"
logger = Logger(service=SERVICE, child=True)


def start_glue_job(glue: Any, stage: Stage | None, arguments: Mapping[str, str]) -> dict[str, Any]:
    """Start the Glue job of `stage` (named after the stage) with `arguments`."""
    if stage is None or stage.runs != "glue_job":
        raise LakeError(f"the orchestration definition has no Glue job stage here (found {stage})")
    job_run_id = glue.start_job_run(JobName=stage.name, Arguments=dict(arguments))["JobRunId"]
    logger.info("started Glue job %s run %s", stage.name, job_run_id)
    return started(stage.name, stage.name, job_run_id=job_run_id)


def started(stage: str, job: str, **details: Any) -> dict[str, Any]:
    return {"status": "started", "stage": stage, "job": job, **details}


def stopped(job: str, state: str, error: str | None) -> dict[str, Any]:
    """A job ended without success: the chain stops here, with the job's error."""
    logger.error("job %s ended %s: %s; the chain stops", job, state, error)
    return {"status": "stopped", "job": job, "state": state, "error": error or "no error message given"}


def chain_ended(job: str) -> dict[str, Any]:
    logger.info("job %s was the last stage", job)
    return {"status": "chain_ended", "job": job}


def ignored(reason: str) -> dict[str, Any]:
    logger.info("ignored: %s", reason)
    return {"status": "ignored", "reason": reason}
