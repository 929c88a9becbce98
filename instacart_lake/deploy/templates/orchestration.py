"""The orchestration stack, compiled from the one orchestration definition
(instacart_lake/orchestration/pipeline.toml): per event kind an EventBridge rule matching the
events of the pipeline's own jobs, the Lambda function of its handler with the environment it
reads and a role that may start only the stages that event starts; the idempotency table and
the dead-letter queue the handlers share.

The raw zone's batch markers arrive through EventBridge (the bucket sends its events there),
rewritten by the rule into the S3 notification record the raw_files_landed handler takes.
"""

from __future__ import annotations

import json
from typing import Any

from instacart_lake.crawler.definition import load_crawler
from instacart_lake.deploy.templates.catalog import aws_locations
from instacart_lake.deploy.templates.intrinsics import (
    POWERTOOLS_LAYER_PARAMETER,
    STAGE_PARAMETER,
    allow,
    assume_role_policy,
    bucket_arn,
    camel,
    checkov_skips,
    deployed_lake_settings,
    get_att,
    key_arn,
    log_group,
    policy,
    ref,
    resource_parameters,
    string_parameter,
    sub,
)
from instacart_lake.ml.job_requests import MODEL_VERSION_PREFIX
from instacart_lake.orchestration.definition import S3_SOURCE, Definition, EventKind, load_definition

SOURCES = "instacart_lake/orchestration/pipeline.toml and instacart_lake/deploy/templates/orchestration.py"
LAMBDA_BUNDLE = "lambda.zip"
HANDLER_MODULES_WITH_ML_SETTINGS = "instacart_lake.handlers.ml_settings"
ARN = "arn:${AWS::Partition}"
REGIONAL = "${AWS::Region}:${AWS::AccountId}"

# The states of each service's state-change events that a handler acts on.
GLUE_JOB_STATES = ["SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"]
CRAWLER_STATES = ["Succeeded", "Failed"]
SAGEMAKER_STATES = ["Completed", "Failed", "Stopped"]


def function_name_text(event_kind: str) -> str:
    """The Lambda function (and its role and rule) of an event kind's handler, a Fn::Sub text."""
    return f"${{Stage}}-instacart-{event_kind.replace('_', '-')}"


def handler_module(event: EventKind) -> str:
    return event.handler.partition(":")[0]


def uses_ml_settings(event: EventKind) -> bool:
    """Whether the handler reads the ML_* settings (it imports the module that reads them)."""
    from importlib.util import find_spec

    spec = find_spec(handler_module(event))
    return HANDLER_MODULES_WITH_ML_SETTINGS in open(spec.origin, encoding="utf-8").read()


def handler_environment(event: EventKind) -> dict[str, Any]:
    environment = base_handler_environment()
    if uses_ml_settings(event):
        environment |= {
            "ML_CODE_URI": sub("s3://${ArtifactsBucket}/${CodePrefix}/ml"),
            "SAGEMAKER_ROLE_ARN": sub(f"{ARN}:iam::${{AWS::AccountId}}:role/${{SageMakerExecutionRole}}"),
            "ML_TRAINING_INSTANCE_TYPE": ref("TrainingInstanceType"),
            "ML_SCORING_INSTANCE_TYPE": ref("ScoringInstanceType"),
        }
    return environment


def _event_pattern(event: EventKind, definition: Definition) -> dict[str, Any]:
    if event.source == S3_SOURCE:
        return {"source": [S3_SOURCE], "detail-type": ["Object Created"],
                "detail": {"bucket": {"name": [ref("RawBucket")]},
                           "object": {"key": [{"wildcard": f"{event.prefix}*{event.suffix}"}]}}}
    pattern: dict[str, Any] = {"source": [event.source], "detail-type": [event.detail_type]}
    if event.detail_type == "Glue Crawler State Change":
        crawler = load_crawler().glue_name(aws_locations().config.database_prefix)
        pattern["detail"] = {"crawlerName": [crawler], "state": CRAWLER_STATES}
    elif event.detail_type == "Glue Job State Change":
        jobs = [stage.name for stage in definition.stages if stage.runs == "glue_job"]
        pattern["detail"] = {"jobName": jobs, "state": GLUE_JOB_STATES}
    elif event.detail_type == "SageMaker Training Job State Change":
        pattern["detail"] = {"TrainingJobName": [{"prefix": MODEL_VERSION_PREFIX}],
                             "TrainingJobStatus": SAGEMAKER_STATES}
    elif event.detail_type == "SageMaker Processing Job State Change":
        pattern["detail"] = {"ProcessingJobName": [{"prefix": MODEL_VERSION_PREFIX}],
                             "ProcessingJobStatus": SAGEMAKER_STATES}
    else:
        raise ValueError(f"no event pattern for the event kind {event.name} ({event.detail_type})")
    return pattern


def _s3_notification_transformer() -> dict[str, Any]:
    """EventBridge's Object Created event as the S3 notification record of that object."""
    record = {
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "<region>", "eventTime": "<time>",
        "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "<bucket>", "arn": "arn:aws:s3:::<bucket>"},
               "object": {"key": "<key>", "size": 0, "sequencer": "<sequencer>"}},
    }
    return {
        "InputPathsMap": {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key",
                          "sequencer": "$.detail.object.sequencer", "time": "$.time", "region": "$.region"},
        "InputTemplate": json.dumps({"Records": [record]}),
    }


def _started_stage_statements(event: EventKind, definition: Definition) -> list[dict[str, Any]]:
    """What the handler of `event` may do: start the stages that its event starts."""
    statements = []
    glue = f"{ARN}:glue:{REGIONAL}"
    sagemaker = f"{ARN}:sagemaker:{REGIONAL}"
    pass_role = allow(["iam:PassRole"], sub(f"{ARN}:iam::${{AWS::AccountId}}:role/${{SageMakerExecutionRole}}"),
                      "PassTheSageMakerRole")
    for stage in definition.stages:
        if stage.started_by != event.name:
            continue
        if stage.runs == "crawler":
            crawler = load_crawler().glue_name(aws_locations().config.database_prefix)
            statements.append(allow(["glue:StartCrawler"], sub(f"{glue}:crawler/{crawler}"), "StartTheCrawler"))
        elif stage.runs == "glue_job":
            statements.append(allow(["glue:StartJobRun"], sub(f"{glue}:job/{stage.name}"),
                                    f"Start{camel(stage.name)}"))
        elif stage.runs == "training_job":
            statements += [allow(["sagemaker:AddTags", "sagemaker:CreateTrainingJob"],
                                 sub(f"{sagemaker}:training-job/{MODEL_VERSION_PREFIX}*"), "StartTraining"), pass_role]
        elif stage.runs == "processing_job":
            statements += [allow(["sagemaker:AddTags", "sagemaker:CreateProcessingJob"],
                                 sub(f"{sagemaker}:processing-job/{MODEL_VERSION_PREFIX}*"), "StartScoring"),
                           pass_role,
                           allow(["s3:GetObject", "s3:PutObject"], bucket_arn("MlBucket", "/models/*"),
                                 "RecordModelCards")]
    return list({statement["Sid"]: statement for statement in statements}.values())


def handler_resources(kind: str, handler: str, pattern: dict[str, Any], environment: dict[str, Any],
                      statements: list[dict[str, Any]], idempotency_table_arn: Any, dead_letter_arn: Any,
                      input_transformer: dict[str, Any] | None = None) -> dict[str, Any]:
    """The log group, role, function, rule and permission of one handler (`module:function`)
    of the events matching `pattern`; `statements` are what it may do beyond its own upkeep."""
    name = camel(kind)
    upkeep = [
        allow(["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
              idempotency_table_arn, "KeepIdempotencyRecords"),
        allow(["kms:Decrypt", "kms:GenerateDataKey"], key_arn(), "UseTheDataKey"),
        allow(["logs:CreateLogStream", "logs:PutLogEvents"], get_att(f"{name}Logs", "Arn"), "WriteItsLogs"),
        allow(["sqs:SendMessage"], dead_letter_arn, "SendFailedEvents"),
        allow(["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*", "SendTraces"),
    ]
    target: dict[str, Any] = {"Id": "handler", "Arn": get_att(name, "Arn"),
                              "RetryPolicy": {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600},
                              "DeadLetterConfig": {"Arn": dead_letter_arn}}
    if input_transformer:
        target["InputTransformer"] = input_transformer
    return {
        f"{name}Logs": log_group(sub(f"/aws/lambda/{function_name_text(kind)}")),
        f"{name}Role": {
            "Type": "AWS::IAM::Role",
            "Metadata": checkov_skips(("CKV_AWS_111", "X-Ray's PutTraceSegments and PutTelemetryRecords have no "
                                                      "resource-level permissions.")),
            "Properties": {
                "RoleName": sub(function_name_text(kind)),
                "Description": f"The {kind} handler",
                "AssumeRolePolicyDocument": assume_role_policy("lambda.amazonaws.com"),
                "Policies": [policy(kind, upkeep + statements)],
            },
        },
        name: {
            "Type": "AWS::Lambda::Function",
            "Metadata": checkov_skips(("CKV_AWS_117", "The handler calls only AWS APIs (Glue, SageMaker, DynamoDB, "
                                                      "S3); it reaches no resource inside a VPC.")),
            "Properties": {
                "FunctionName": sub(function_name_text(kind)),
                "Description": f"Handles {kind}: {handler}",
                "Runtime": "python3.11",
                "Handler": handler.replace(":", "."),
                "Code": {"S3Bucket": ref("ArtifactsBucket"), "S3Key": sub(f"${{CodePrefix}}/{LAMBDA_BUNDLE}")},
                "Layers": [ref("PowertoolsLayerArn")],
                "Role": get_att(f"{name}Role", "Arn"),
                "MemorySize": 256,
                "Timeout": 60,
                "ReservedConcurrentExecutions": 5,
                "KmsKeyArn": key_arn(),
                "TracingConfig": {"Mode": "Active"},
                "DeadLetterConfig": {"TargetArn": dead_letter_arn},
                "LoggingConfig": {"LogGroup": ref(f"{name}Logs"), "LogFormat": "JSON"},
                "Environment": {"Variables": environment},
            },
        },
        f"{name}Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Name": sub(function_name_text(kind)),
                "Description": f"{kind}: the events its handler acts on",
                "EventPattern": pattern,
                "State": "ENABLED",
                "Targets": [target],
            },
        },
        f"{name}Permission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": ref(name),
                "Principal": "events.amazonaws.com",
                "SourceArn": get_att(f"{name}Rule", "Arn"),
            },
        },
    }


def base_handler_environment() -> dict[str, Any]:
    """What every handler reads: the deployed lake, its idempotency table, powertools' settings."""
    return {
        **deployed_lake_settings(),
        "IDEMPOTENCY_TABLE": ref("IdempotencyTable"),
        "POWERTOOLS_SERVICE_NAME": "instacart-lake",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def _shared_resources() -> dict[str, Any]:
    return {
        "IdempotencyTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": sub("${Stage}-instacart-idempotency"),
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn()},
            },
        },
        "DeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": sub("${Stage}-instacart-handler-failures"), "MessageRetentionPeriod": 1209600,
                           "KmsMasterKeyId": key_arn()},
        },
        "DeadLetterQueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [ref("DeadLetterQueue")],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Sid": "RulesSendUndeliveredEvents", "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                    "Resource": get_att("DeadLetterQueue", "Arn"),
                    "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}}]},
            },
        },
    }


def template() -> dict[str, Any]:
    definition = load_definition()
    resources = _shared_resources()
    for event in definition.events.values():
        resources |= handler_resources(
            event.name, event.handler, _event_pattern(event, definition), handler_environment(event),
            _started_stage_statements(event, definition), get_att("IdempotencyTable", "Arn"),
            get_att("DeadLetterQueue", "Arn"),
            _s3_notification_transformer() if event.source == S3_SOURCE else None)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Instacart lake orchestration: an EventBridge rule and a Lambda handler per event kind of "
                       "instacart_lake/orchestration/pipeline.toml, the idempotency table and the dead-letter queue.",
        "Parameters": {
            **STAGE_PARAMETER,
            **resource_parameters("RawBucket", "CleanBucket", "CuratedBucket", "MlBucket", "ArtifactsBucket",
                                  "DataKey", "SageMakerExecutionRole"),
            "CodePrefix": string_parameter("The artifacts bucket's prefix of this code version (lake deploy)"),
            "PowertoolsLayerArn": POWERTOOLS_LAYER_PARAMETER,
            "TrainingInstanceType": string_parameter("Instance type of the training jobs", "ml.m5.xlarge"),
            "ScoringInstanceType": string_parameter("Instance type of the scoring (processing) jobs", "ml.m5.xlarge"),
        },
        "Resources": resources,
    }
