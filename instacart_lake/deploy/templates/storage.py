"""The storage stack: the data key, a bucket per zone of the lake (config.ZONES), the
artifacts bucket (code, Athena results) and the access-log bucket. Deployed first."""

from __future__ import annotations

from typing import Any

from instacart_lake.config import ZONES
from instacart_lake.deploy.templates.intrinsics import (
    STAGE_PARAMETER,
    camel,
    checkov_skips,
    get_att,
    ref,
    sub,
)

SOURCES = "instacart_lake/config.py (the zones) and instacart_lake/deploy/templates/storage.py"
BUCKETS = (*ZONES, "artifacts")
DELTA_ZONES = ("clean", "curated", "ml")

NO_PUBLIC_ACCESS = {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True}
OWNER_ENFORCED = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
ABORT_UPLOADS = {"DaysAfterInitiation": 7}


def bucket_logical_id(name: str) -> str:
    """RawBucket, CleanBucket, ..., ArtifactsBucket: also the parameter names of later stacks."""
    return f"{camel(name)}Bucket"


def _key() -> dict[str, Any]:
    account_root = sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
    return {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "Description": sub("Encrypts the ${Stage} Instacart lake: buckets, logs, queues, tables, topics"),
            "EnableKeyRotation": True,
            "KeyPolicy": {"Version": "2012-10-17", "Statement": [
                {"Sid": "AccountAdministersThroughIam", "Effect": "Allow", "Principal": {"AWS": account_root},
                 "Action": "kms:*", "Resource": "*"},
                {"Sid": "CloudWatchLogsEncryptsTheLakesLogGroups", "Effect": "Allow",
                 "Principal": {"Service": sub("logs.${AWS::Region}.amazonaws.com")},
                 "Action": ["kms:Decrypt", "kms:Describe*", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                 "Resource": "*",
                 "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                           sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*")}}},
                {"Sid": "AwsServicesOfTheLakeUseTheKey", "Effect": "Allow",
                 "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com", "sns.amazonaws.com"]},
                 "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
                 "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}},
            ]},
        },
    }


def _bucket_policy(bucket: str) -> dict[str, Any]:
    """TLS only, and no object written with other encryption than the data key. A write that
    names no encryption takes the bucket's default (the data key), so only a header naming
    another algorithm or key is refused (the Null guards)."""
    logical = bucket_logical_id(bucket)
    objects = sub(f"${{{logical}.Arn}}/*")
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": ref(logical),
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": [get_att(logical, "Arn"), objects],
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                {"Sid": "KmsEncryptedWritesOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                 "Resource": objects,
                 "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                               "Null": {"s3:x-amz-server-side-encryption": "false"}}},
                {"Sid": "DataKeyWritesOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                 "Resource": objects,
                 "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id":
                                                   get_att("DataKey", "Arn")},
                               "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"}}},
            ]},
        },
    }


def _lifecycle(bucket: str) -> dict[str, Any]:
    noncurrent = {"NoncurrentDays": ref("NoncurrentVersionDays")}
    if bucket == "raw":
        rules = [{"Id": "RawFilesToGlacierInstantRetrieval", "Status": "Enabled",
                  "Transitions": [{"StorageClass": "GLACIER_IR", "TransitionInDays": ref("RawTransitionDays")}],
                  "NoncurrentVersionExpiration": noncurrent, "AbortIncompleteMultipartUpload": ABORT_UPLOADS}]
    elif bucket in DELTA_ZONES:
        rules = [{"Id": "ExpireVacuumedDeltaFiles", "Status": "Enabled", "NoncurrentVersionExpiration": noncurrent,
                  "AbortIncompleteMultipartUpload": ABORT_UPLOADS}]
    else:
        rules = [{"Id": "ExpireReplacedArtifacts", "Status": "Enabled", "NoncurrentVersionExpiration": noncurrent,
                  "AbortIncompleteMultipartUpload": ABORT_UPLOADS},
                 {"Id": "ExpireTemporaryFiles", "Status": "Enabled", "Prefix": "tmp/", "ExpirationInDays": 7}]
    return {"Rules": rules}


def _bucket(bucket: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "BucketName": sub(f"${{Stage}}-instacart-{bucket}-${{AWS::AccountId}}"),
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": get_att("DataKey", "Arn")},
            "BucketKeyEnabled": True,
        }]},
        "VersioningConfiguration": {"Status": "Enabled"},
        "PublicAccessBlockConfiguration": NO_PUBLIC_ACCESS,
        "OwnershipControls": OWNER_ENFORCED,
        "LoggingConfiguration": {"DestinationBucketName": ref("AccessLogsBucket"), "LogFilePrefix": f"{bucket}/"},
        "LifecycleConfiguration": _lifecycle(bucket),
    }
    if bucket == "raw":
        # The batch markers' ObjectCreated events reach the raw_files_landed handler through
        # EventBridge (orchestration stack): no function has to exist before this bucket.
        properties["NotificationConfiguration"] = {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    return {"Type": "AWS::S3::Bucket", "DependsOn": "AccessLogsBucketPolicy", "Properties": properties}


def _access_logs() -> dict[str, dict[str, Any]]:
    return {
        "AccessLogsBucket": {
            "Type": "AWS::S3::Bucket",
            "Metadata": checkov_skips(
                ("CKV_AWS_18", "This is the access-log bucket; logging its own access would loop."),
                ("CKV_AWS_145", "S3 delivers server access logs only to a bucket encrypted with SSE-S3, not SSE-KMS."),
            ),
            "Properties": {
                "BucketName": sub("${Stage}-instacart-access-logs-${AWS::AccountId}"),
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
                "VersioningConfiguration": {"Status": "Enabled"},
                "PublicAccessBlockConfiguration": NO_PUBLIC_ACCESS,
                "OwnershipControls": OWNER_ENFORCED,
                "LifecycleConfiguration": {"Rules": [{
                    "Id": "ExpireAccessLogs", "Status": "Enabled", "ExpirationInDays": 365,
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]},
            },
        },
        "AccessLogsBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": ref("AccessLogsBucket"),
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Sid": "S3DeliversAccessLogs", "Effect": "Allow",
                     "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
                     "Resource": sub("${AccessLogsBucket.Arn}/*"),
                     "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}},
                    {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                     "Resource": [get_att("AccessLogsBucket", "Arn"), sub("${AccessLogsBucket.Arn}/*")],
                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                ]},
            },
        },
    }


def template() -> dict[str, Any]:
    resources: dict[str, Any] = {
        "DataKey": _key(),
        "DataKeyAlias": {"Type": "AWS::KMS::Alias",
                         "Properties": {"AliasName": sub("alias/${Stage}-instacart-lake"),
                                        "TargetKeyId": ref("DataKey")}},
        **_access_logs(),
    }
    for bucket in BUCKETS:
        resources[bucket_logical_id(bucket)] = _bucket(bucket)
        resources[f"{bucket_logical_id(bucket)}Policy"] = _bucket_policy(bucket)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": ("Instacart lake storage: the data key, a bucket per zone, the artifacts bucket and the "
                        "access-log bucket. Deployed first; later stacks take these resources as parameters of the "
                        "same names (lake deploy)."),
        "Parameters": {
            **STAGE_PARAMETER,
            "RawTransitionDays": {"Type": "Number", "Default": 90, "MinValue": 30,
                                  "Description": "Days before raw files move to S3 Glacier Instant Retrieval."},
            "NoncurrentVersionDays": {"Type": "Number", "Default": 30, "MinValue": 1,
                                      "Description": "Days a replaced or deleted object version is kept (the data "
                                                     "files Delta's VACUUM removes, overwritten files)."},
        },
        "Resources": resources,
        "Outputs": {
            **{bucket_logical_id(bucket): {"Value": ref(bucket_logical_id(bucket))} for bucket in BUCKETS},
            "DataKey": {"Value": ref("DataKey")},
            "DataKeyArn": {"Value": get_att("DataKey", "Arn")},
        },
    }
