"""What the handlers start the next step with, and where they keep their idempotency records.

On Lambda (Lambda sets AWS_LAMBDA_FUNCTION_NAME) the clients are boto3's Glue, SageMaker and S3
clients of the aws profile, made once per container, and the records are in the DynamoDB table
IDEMPOTENCY_TABLE. Anywhere else the handlers run under `lake run`: the clients are the local
services, which run the jobs on this machine, and the records are in the lake's meta location;
both take the lake from the environment on each call.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, DynamoDBPersistenceLayer

from instacart_lake.aws_clients import boto3_client
from instacart_lake.config import load_config
from instacart_lake.context import Lake
from instacart_lake.handlers.embedded_idempotency import EmbeddedPersistenceLayer
from instacart_lake.orchestration.local_services import LocalGlue, LocalSageMaker


def on_lambda() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


@dataclass(frozen=True)
class Clients:
    glue: Any
    sagemaker: Any
    s3: Any
    """For artifacts on S3 (model cards, training output); None where the ml zone is local."""


@lru_cache(maxsize=1)
def _lambda_clients() -> Clients:
    config = load_config(profile="aws")
    return Clients(boto3_client(config, "glue"), boto3_client(config, "sagemaker"), boto3_client(config, "s3"))


def handler_clients() -> Clients:
    if on_lambda():
        return _lambda_clients()
    config = Lake.from_environment().config
    return Clients(LocalGlue(), LocalSageMaker(), boto3_client(config, "s3") if config.on_s3 else None)


def idempotency_store() -> BasePersistenceLayer:
    if on_lambda():
        return DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"])
    return EmbeddedPersistenceLayer()


def lake_profile() -> str:
    """The profile the Glue jobs run with (--lake_profile): LAKE_PROFILE, which the template
    sets to aws and `lake run` to the profile of its lake."""
    return load_config().profile
