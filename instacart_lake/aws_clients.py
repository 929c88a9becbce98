"""How the lake's clients reach AWS: boto3, pyarrow's S3 filesystem and Spark's s3a, each
built from one profile's `region` and `endpoint_url` (an S3-compatible endpoint such as moto
or MinIO; None for AWS itself). Credentials are never configured here: each client takes
them from the standard AWS chain (environment variables first)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import boto3

from instacart_lake.config import LakeConfig

if TYPE_CHECKING:
    from pyarrow import fs as pafs

S3A_FILESYSTEM = "org.apache.hadoop.fs.s3a.S3AFileSystem"
S3A_CREDENTIALS_PROVIDER = "com.amazonaws.auth.DefaultAWSCredentialsProviderChain"
LOCAL_KINESIS_REGION = "us-east-1"
"""The region a profile without one (local) signs its Kinesis requests for."""


def boto3_client(config: LakeConfig, service: str) -> Any:
    return boto3.client(service, region_name=config.region, endpoint_url=config.endpoint_url)


def kinesis_client(config: LakeConfig) -> Any:
    """The order stream's Kinesis client: `kinesis_endpoint_url` where the profile sets one (the
    local server of `lake stream start`), else the profile's endpoint (None: AWS)."""
    endpoint_url = config.kinesis_endpoint_url or config.endpoint_url
    credentials = {}
    if _is_loopback(endpoint_url) and boto3.Session().get_credentials() is None:
        credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    return boto3.client("kinesis", region_name=config.region or LOCAL_KINESIS_REGION,
                        endpoint_url=endpoint_url, **credentials)


def _is_loopback(endpoint_url: str | None) -> bool:
    """A server on this machine, which takes any credentials: none is needed to reach it."""
    return endpoint_url is not None and urlparse(endpoint_url).hostname in ("127.0.0.1", "localhost", "::1")


def s3_filesystem(config: LakeConfig) -> pafs.S3FileSystem:
    return _s3_filesystem(config.region, config.endpoint_url)


@lru_cache(maxsize=None)
def _s3_filesystem(region: str | None, endpoint_url: str | None) -> pafs.S3FileSystem:
    """One filesystem per connection: the region is given, so pyarrow never asks AWS for it.
    (pyarrow is imported here, not with the module: the Lambda handlers have no pyarrow.)"""
    from pyarrow import fs as pafs

    if endpoint_url is None:
        return pafs.S3FileSystem(region=region)
    endpoint = urlparse(endpoint_url)
    return pafs.S3FileSystem(region=region, endpoint_override=endpoint.netloc, scheme=endpoint.scheme)


def s3a_settings(config: LakeConfig) -> dict[str, str]:
    """Spark settings that serve s3:// (and s3a://) URIs with hadoop-aws's S3AFileSystem, for
    local sessions: on Glue, s3:// is EMRFS and none of this applies."""
    settings = {
        "spark.hadoop.fs.s3.impl": S3A_FILESYSTEM,
        "spark.hadoop.fs.s3a.impl": S3A_FILESYSTEM,
        "spark.hadoop.fs.s3a.aws.credentials.provider": S3A_CREDENTIALS_PROVIDER,
    }
    if config.region:
        settings["spark.hadoop.fs.s3a.endpoint.region"] = config.region
    if config.endpoint_url:
        settings.update({
            "spark.hadoop.fs.s3a.endpoint": config.endpoint_url,
            "spark.hadoop.fs.s3a.path.style.access": "true",
            "spark.hadoop.fs.s3a.connection.ssl.enabled": str(config.endpoint_url.startswith("https://")).lower(),
        })
    return settings
