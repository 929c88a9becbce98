"""The CloudFormation and S3 clients of `lake deploy` and `lake destroy`: the region given,
else the aws profile's; the profile's endpoint_url (LAKE_ENDPOINT_URL) where one is set."""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from instacart_lake.config import load_config
from instacart_lake.deploy.deployment import AwsClients
from instacart_lake.deploy.stacks import DeployError

STAGE_PATTERN = re.compile(r"[a-z][a-z0-9-]{1,19}")


def checked_stage(stage: str) -> str:
    if not STAGE_PATTERN.fullmatch(stage):
        raise DeployError(f"stage {stage!r}: use 2 to 20 lowercase letters, digits and hyphens, starting with a letter")
    return stage


def aws_clients(region: str | None) -> AwsClients:
    config = load_config(profile="aws")
    region = region or config.region
    if not region:
        raise DeployError("no region: pass --region or set LAKE_REGION")
    session = boto3.Session(region_name=region)
    return AwsClients(session.client("cloudformation", endpoint_url=config.endpoint_url),
                      session.client("s3", endpoint_url=config.endpoint_url), region)


@contextmanager
def aws_errors_reported(action: str) -> Iterator[None]:
    """AWS's refusals and missing credentials as one line, not a stack trace."""
    try:
        yield
    except NoCredentialsError as error:
        raise DeployError(f"{action}: no AWS credentials ({error}); configure them as for the AWS CLI") from error
    except ClientError as error:
        details = error.response.get("Error", {})
        raise DeployError(f"{action}: {error.operation_name} refused: {details.get('Code')}: "
                          f"{details.get('Message')}") from error
    except BotoCoreError as error:
        raise DeployError(f"{action}: {error}") from error
