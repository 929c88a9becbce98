"""The context object a Lambda handler receives, for handlers invoked on this machine."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

LAMBDA_TIMEOUT_MILLIS = 900_000


@dataclass(frozen=True)
class LocalLambdaContext:
    function_name: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return self.aws_request_id

    def get_remaining_time_in_millis(self) -> int:
        return LAMBDA_TIMEOUT_MILLIS
