"""Errors of the ML stage: what the handlers and the local runner report to the user."""

from __future__ import annotations

from instacart_lake.errors import LakeError


class MLStageError(LakeError):
    """The ML stage cannot go on: a bad setting, a missing artifact, an unsupported region."""


class JobFailed(MLStageError):
    """A training or scoring job ended without success (failed, stopped or timed out)."""

    def __init__(self, job_name: str, reason: str):
        super().__init__(f"job {job_name} failed: {reason}")
        self.job_name = job_name
        self.reason = reason
