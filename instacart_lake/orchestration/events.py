"""The events between stages, as AWS sends them: S3 event notification records, and the
EventBridge state-change events of Glue jobs, Glue crawlers and SageMaker jobs (the shapes of
the samples in the AWS documentation). The local event loop makes them; on AWS the services do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from typing import Any, Mapping

LOCAL_ACCOUNT = "000000000000"
GLUE_JOB_SEVERITY = {"SUCCEEDED": "INFO", "FAILED": "ERROR", "TIMEOUT": "WARN", "STOPPED": "INFO"}
GLUE_JOB_MESSAGE = {"SUCCEEDED": "Job run succeeded", "TIMEOUT": "Job run timed out", "STOPPED": "Job run stopped"}


def utc_timestamp(moment: dt.datetime | None = None) -> str:
    """EventBridge's `time`: ISO 8601 in UTC to the second, with a Z."""
    return (moment or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _eventbridge(source: str, detail_type: str, detail: Mapping[str, Any], region: str,
                 resources: list[str] | None = None) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": LOCAL_ACCOUNT,
        "time": utc_timestamp(),
        "region": region,
        "resources": resources or [],
        "detail": dict(detail),
    }


def s3_object_created(bucket: str, key: str, body: bytes, region: str) -> dict[str, Any]:
    """The S3 event notification of one object put (`ObjectCreated:Put`)."""
    now = dt.datetime.now(dt.timezone.utc)
    return {"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "local"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": uuid.uuid4().hex},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "raw-files-landed",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "local"}, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": key, "size": len(body), "eTag": hashlib.md5(body).hexdigest(),
                       "sequencer": f"{time.time_ns():X}"},
        },
    }]}


def glue_job_state_change(job_name: str, job_run_id: str, state: str, region: str,
                          error: str | None = None) -> dict[str, Any]:
    message = GLUE_JOB_MESSAGE.get(state) or (error or "Job run failed")
    return _eventbridge("aws.glue", "Glue Job State Change", {
        "jobName": job_name,
        "severity": GLUE_JOB_SEVERITY.get(state, "INFO"),
        "state": state,
        "jobRunId": job_run_id,
        "message": message,
    }, region)


def glue_crawler_state_change(crawler_name: str, state: str, region: str, error: str | None = None) -> dict[str, Any]:
    """`state` is Succeeded or Failed, as the crawler's events spell it."""
    detail = {"crawlerName": crawler_name, "state": state, "accountId": LOCAL_ACCOUNT}
    if state == "Succeeded":
        detail["message"] = "Crawler Succeeded"
    else:
        detail["errorMessage"] = error or "Crawler failed"
    return _eventbridge("aws.glue", "Glue Crawler State Change", detail, region)


def sagemaker_training_job_state_change(description: Mapping[str, Any], region: str) -> dict[str, Any]:
    """The detail is the job's DescribeTrainingJob response, with Tags as a map."""
    return _eventbridge("aws.sagemaker", "SageMaker Training Job State Change", _with_tag_map(description), region,
                        [description["TrainingJobArn"]])


def sagemaker_processing_job_state_change(description: Mapping[str, Any], region: str) -> dict[str, Any]:
    """The detail is the job's DescribeProcessingJob response, with Tags as a map."""
    return _eventbridge("aws.sagemaker", "SageMaker Processing Job State Change", _with_tag_map(description), region,
                        [description["ProcessingJobArn"]])


def _with_tag_map(description: Mapping[str, Any]) -> dict[str, Any]:
    tags = description.get("Tags", [])
    return {**description, "Tags": {tag["Key"]: tag["Value"] for tag in tags} if isinstance(tags, list) else tags}
