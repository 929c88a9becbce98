"""The Glue and SageMaker calls the handlers make, answered on this machine with boto3's method
names and request and response shapes: a call starts a job run in the job-run store of the
lake (instacart_lake.orchestration.job_runs) and returns, as the services do; the local event
loop runs it. The lake comes from the environment on each call (LAKE_PROFILE, LAKE_ROOT and
the other LAKE_* settings)."""

from __future__ import annotations

from typing import Any, Mapping

from botocore.exceptions import ClientError

from instacart_lake.context import Lake
from instacart_lake.job_args import new_job_run_id
from instacart_lake.orchestration.definition import load_definition
from instacart_lake.orchestration.events import LOCAL_ACCOUNT
from instacart_lake.orchestration.job_runs import JobRun, JobRunStore

LOCAL_REGION = "us-east-1"


def _store() -> JobRunStore:
    return JobRunStore(Lake.from_environment())


def _client_error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def sagemaker_arn(kind: str, job_name: str) -> str:
    resource = {"training_job": "training-job", "processing_job": "processing-job"}[kind]
    return f"arn:aws:sagemaker:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{resource}/{job_name}"


class LocalGlue:
    """start_job_run, get_job_run and start_crawler of boto3's Glue client."""

    def start_job_run(self, JobName: str, Arguments: Mapping[str, str] | None = None, **_: Any) -> dict:
        glue_jobs = [stage.name for stage in load_definition().stages if stage.runs == "glue_job"]
        if JobName not in glue_jobs:
            raise _client_error("EntityNotFoundException", f"Job {JobName} not found", "StartJobRun")
        run = JobRun(run_id=new_job_run_id(), kind="glue_job", job=JobName, arguments=dict(Arguments or {}),
                     state="STARTING")
        _store().save(run)
        return {"JobRunId": run.run_id}

    def get_job_run(self, JobName: str, RunId: str, **_: Any) -> dict:
        run = _store().get(RunId)
        if run is None or run.kind != "glue_job" or run.job != JobName:
            raise _client_error("EntityNotFoundException", f"Job run {RunId} of {JobName} not found", "GetJobRun")
        job_run = {"Id": run.run_id, "JobName": run.job, "Arguments": run.arguments, "JobRunState": run.state,
                   "StartedOn": run.started_on, "CompletedOn": run.completed_on}
        if run.error:
            job_run["ErrorMessage"] = run.error
        return {"JobRun": job_run}

    def start_crawler(self, Name: str, **_: Any) -> dict:
        store = _store()
        if any(not run.finished for run in store.find("crawler", Name)):
            raise _client_error("CrawlerRunningException", f"Crawler {Name} is running", "StartCrawler")
        store.save(JobRun(run_id=new_job_run_id(), kind="crawler", job=Name, arguments={}, state="RUNNING"))
        return {}


class LocalSageMaker:
    """create_training_job, create_processing_job and their describe calls of boto3's
    SageMaker client; a description is the request with the job's ARN and status (and, once
    the job has ended, what it made), as DescribeTrainingJob and DescribeProcessingJob give."""

    def create_training_job(self, **request: Any) -> dict:
        return {"TrainingJobArn": self._create("training_job", request["TrainingJobName"], request)}

    def create_processing_job(self, **request: Any) -> dict:
        return {"ProcessingJobArn": self._create("processing_job", request["ProcessingJobName"], request)}

    def describe_training_job(self, TrainingJobName: str) -> dict:
        return self._describe("training_job", TrainingJobName)

    def describe_processing_job(self, ProcessingJobName: str) -> dict:
        return self._describe("processing_job", ProcessingJobName)

    def _create(self, kind: str, job_name: str, request: Mapping[str, Any]) -> str:
        store = _store()
        if store.find(kind, job_name):
            raise _client_error("ResourceInUse", f"Job name {job_name} must be unique within an AWS account "
                                "and region, and a job with this name already exists", "Create")
        store.save(JobRun(run_id=job_name, kind=kind, job=job_name, arguments=dict(request), state="InProgress"))
        return sagemaker_arn(kind, job_name)

    def _describe(self, kind: str, job_name: str) -> dict:
        runs = _store().find(kind, job_name)
        if not runs:
            raise _client_error("ResourceNotFound", f"Requested resource not found: {job_name}", "Describe")
        return sagemaker_description(runs[0])


def sagemaker_description(run: JobRun) -> dict:
    """The Describe response of a SageMaker job run."""
    status_key = "TrainingJobStatus" if run.kind == "training_job" else "ProcessingJobStatus"
    arn_key = "TrainingJobArn" if run.kind == "training_job" else "ProcessingJobArn"
    description = {**run.arguments, arn_key: sagemaker_arn(run.kind, run.job), status_key: run.state,
                   "CreationTime": run.created_on, **run.results.get("description", {})}
    if run.error:
        description["FailureReason"] = run.error
    return description
