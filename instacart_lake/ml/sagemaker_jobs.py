"""Run the ML stage's requests on SageMaker: create the job, then poll it with boto3's
waiter until it completes, fails, stops or the timeout passes."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Mapping

from botocore.exceptions import WaiterError

from instacart_lake.ml.errors import JobFailed

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class SageMakerJobs:
    """`client` is a boto3 SageMaker client; each job may take `timeout_seconds`, polled
    every `poll_seconds`."""

    client: Any
    timeout_seconds: int = 3600
    poll_seconds: int = 30

    def run_training(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Create the training job and wait for it; its DescribeTrainingJob response."""
        job_name = request["TrainingJobName"]
        self.client.create_training_job(**request)
        LOGGER.info("training job %s created", job_name)
        self._wait("training_job_completed_or_stopped", {"TrainingJobName": job_name}, job_name)
        description = self.client.describe_training_job(TrainingJobName=job_name)
        self._require_completed(job_name, description["TrainingJobStatus"], description)
        return description

    def run_processing(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Create the processing job and wait for it; its DescribeProcessingJob response."""
        job_name = request["ProcessingJobName"]
        self.client.create_processing_job(**request)
        LOGGER.info("processing job %s created", job_name)
        self._wait("processing_job_completed_or_stopped", {"ProcessingJobName": job_name}, job_name)
        description = self.client.describe_processing_job(ProcessingJobName=job_name)
        self._require_completed(job_name, description["ProcessingJobStatus"], description)
        return description

    def _wait(self, waiter_name: str, job: Mapping[str, str], job_name: str) -> None:
        attempts = max(1, math.ceil(self.timeout_seconds / self.poll_seconds))
        waiter = self.client.get_waiter(waiter_name)
        try:
            waiter.wait(**job, WaiterConfig={"Delay": self.poll_seconds, "MaxAttempts": attempts})
        except WaiterError as error:
            last = error.last_response or {}
            reason = last.get("FailureReason") or last.get("ExitMessage") or str(error)
            raise JobFailed(job_name, reason) from error

    @staticmethod
    def _require_completed(job_name: str, status: str, description: Mapping[str, Any]) -> None:
        if status != "Completed":
            reason = description.get("FailureReason") or description.get("ExitMessage") or "no reason given"
            raise JobFailed(job_name, f"status {status}: {reason}")
