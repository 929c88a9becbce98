"""The stream stack (cloudformation/stream.yaml) from lake.toml's `[stream]`: the Kinesis data
stream (KMS-encrypted with the data key, a shard count parameter), the Firehose delivery stream
reading it into the raw bucket (the buffering hints, GZIP, a line end after each record, the
raw prefix and the error prefix, encryption with the data key, CloudWatch logging),
Firehose's role: read that stream, write those prefixes, use that key, log to that stream; and
the stream_delivered handler that writes a batch marker for each delivered object."""

from __future__ import annotations

from typing import Any

from instacart_lake.deploy.templates.intrinsics import (
    POWERTOOLS_LAYER_PARAMETER,
    STAGE_PARAMETER,
    allow,
    assume_role_policy,
    bucket_arn,
    get_att,
    key_arn,
    log_group,
    policy,
    ref,
    resource_parameters,
    string_parameter,
    sub,
)
from instacart_lake.deploy.templates.orchestration import base_handler_environment, handler_resources
from instacart_lake.orchestration.definition import load_definition
from instacart_lake.stream.settings import StreamSettings, load_stream_settings

SOURCES = "instacart_lake/lake.toml ([stream]) and instacart_lake/stream/template.py"
STREAM = "OrderEventsStream"
DELIVERY_STREAM = "OrderEventsDeliveryStream"
ROLE = "OrderEventsDeliveryRole"
LOG_GROUP = "OrderEventsDeliveryLogGroup"
LOG_STREAM = "OrderEventsDeliveryLogStream"
DESTINATION_LOG_STREAM = "DestinationDelivery"
RETENTION_HOURS = 24


def _static_prefix(prefix: str) -> str:
    """The key prefix before a Firehose prefix's first expression, for the role's resources."""
    return prefix.split("!{", 1)[0].rsplit("/", 1)[0] + "/"


def _stream() -> dict[str, Any]:
    return {
        "Type": "AWS::Kinesis::Stream",
        "Properties": {
            "Name": sub("${Stage}-${StreamName}"),
            "ShardCount": ref("ShardCount"),
            "RetentionPeriodHours": RETENTION_HOURS,
            "StreamModeDetails": {"StreamMode": "PROVISIONED"},
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": key_arn()},
        },
    }


def _role(settings: StreamSettings) -> dict[str, Any]:
    objects = [bucket_arn("RawBucket", f"/{_static_prefix(prefix)}*")
               for prefix in (settings.prefix, settings.error_prefix)]
    via_services = [sub("s3.${AWS::Region}.amazonaws.com"), sub("kinesis.${AWS::Region}.amazonaws.com")]
    trust = assume_role_policy("firehose.amazonaws.com")
    trust["Statement"][0]["Condition"] = {"StringEquals": {"sts:ExternalId": ref("AWS::AccountId")}}
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": sub("${Stage}-instacart-order-events-delivery"),
            "AssumeRolePolicyDocument": trust,
            "Policies": [policy("deliver-order-events", [
                allow(["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
                       "kinesis:GetShardIterator", "kinesis:ListShards"], get_att(STREAM, "Arn"), "ReadTheStream"),
                allow(["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:ListBucket",
                       "s3:ListBucketMultipartUploads"], bucket_arn("RawBucket"), "FindTheRawBucket"),
                allow(["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"], objects, "WriteTheStreamPrefixes"),
                {**allow(["kms:Decrypt", "kms:GenerateDataKey"], key_arn(), "UseTheDataKey"),
                 "Condition": {"StringEquals": {"kms:ViaService": via_services}}},
                allow(["logs:PutLogEvents"],
                      sub(f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:"
                          f"${{{LOG_GROUP}}}:log-stream:{DESTINATION_LOG_STREAM}"), "LogDelivery"),
            ])],
        },
    }


def _delivery_stream(settings: StreamSettings) -> dict[str, Any]:
    return {
        "Type": "AWS::KinesisFirehose::DeliveryStream",
        "Properties": {
            "DeliveryStreamName": sub("${Stage}-${DeliveryStreamName}"),
            "DeliveryStreamType": "KinesisStreamAsSource",
            "KinesisStreamSourceConfiguration": {"KinesisStreamARN": get_att(STREAM, "Arn"),
                                                 "RoleARN": get_att(ROLE, "Arn")},
            "ExtendedS3DestinationConfiguration": {
                "BucketARN": bucket_arn("RawBucket"),
                "RoleARN": get_att(ROLE, "Arn"),
                "Prefix": settings.prefix,
                "ErrorOutputPrefix": settings.error_prefix,
                "BufferingHints": {"SizeInMBs": settings.buffer_size_mib,
                                   "IntervalInSeconds": settings.buffer_interval_seconds},
                "CompressionFormat": "GZIP",
                "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": key_arn()}},
                "ProcessingConfiguration": {"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord"}]},
                "CloudWatchLoggingOptions": {"Enabled": True, "LogGroupName": ref(LOG_GROUP),
                                             "LogStreamName": DESTINATION_LOG_STREAM},
            },
        },
    }


DELIVERED_KIND = "stream_delivered"
DELIVERED_HANDLER = "instacart_lake.handlers.stream_delivered:handler"
DELIVERED_FAILURES = "StreamDeliveredFailures"


def _delivered_handler(settings: StreamSettings) -> dict[str, Any]:
    """Firehose writes no batch marker: the handler of its objects' ObjectCreated events writes
    one per object, as the local deliverer does, so the chain (crawl, job 1) takes them."""
    marker_prefix = load_definition().raw_files_landed.prefix
    pattern = {"source": ["aws.s3"], "detail-type": ["Object Created"],
               "detail": {"bucket": {"name": [ref("RawBucket")]},
                          "object": {"key": [{"prefix": f"{settings.prefix_root}/"}]}}}
    failures = get_att(DELIVERED_FAILURES, "Arn")
    resources = handler_resources(
        DELIVERED_KIND, DELIVERED_HANDLER, pattern, base_handler_environment(),
        [allow(["s3:PutObject"], bucket_arn("RawBucket", f"/{marker_prefix}*"), "WriteBatchMarkers")],
        sub("arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${IdempotencyTable}"), failures)
    resources[DELIVERED_FAILURES] = {
        "Type": "AWS::SQS::Queue",
        "Properties": {"QueueName": sub("${Stage}-instacart-stream-delivered-failures"),
                       "MessageRetentionPeriod": 1209600, "KmsMasterKeyId": key_arn()},
    }
    resources[f"{DELIVERED_FAILURES}Policy"] = {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {"Queues": [ref(DELIVERED_FAILURES)], "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Sid": "RuleSendsUndeliveredEvents", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": failures,
            "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}}]}},
    }
    return resources


def template(settings: StreamSettings | None = None) -> dict[str, Any]:
    settings = settings or load_stream_settings(environ={})
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": ("Instacart lake stream: order events through a Kinesis data stream and a Firehose "
                        "delivery stream into the raw bucket."),
        "Parameters": {
            **STAGE_PARAMETER,
            **resource_parameters("RawBucket", "CleanBucket", "CuratedBucket", "MlBucket", "ArtifactsBucket",
                                  "DataKey", "IdempotencyTable"),
            "CodePrefix": string_parameter("The artifacts bucket's prefix of this code version (lake deploy)"),
            "PowertoolsLayerArn": POWERTOOLS_LAYER_PARAMETER,
            "ShardCount": {"Type": "Number", "Default": settings.shard_count, "MinValue": 1,
                           "Description": "Shards of the data stream (1 MB/s or 1,000 records/s in each)."},
            "StreamName": {"Type": "String", "Default": settings.stream_name,
                           "Description": "The data stream's name after the stage (lake.toml [stream])."},
            "DeliveryStreamName": {"Type": "String", "Default": settings.delivery_stream_name,
                                   "Description": "The delivery stream's name after the stage (lake.toml [stream])."},
        },
        "Resources": {
            STREAM: _stream(),
            LOG_GROUP: log_group(sub("/aws/kinesisfirehose/${Stage}-${DeliveryStreamName}")),
            LOG_STREAM: {"Type": "AWS::Logs::LogStream",
                         "Properties": {"LogGroupName": ref(LOG_GROUP), "LogStreamName": DESTINATION_LOG_STREAM}},
            ROLE: _role(settings),
            DELIVERY_STREAM: _delivery_stream(settings),
            **_delivered_handler(settings),
        },
        "Outputs": {
            STREAM: {"Value": ref(STREAM)},
            f"{STREAM}Arn": {"Value": get_att(STREAM, "Arn")},
            DELIVERY_STREAM: {"Value": ref(DELIVERY_STREAM)},
        },
    }
