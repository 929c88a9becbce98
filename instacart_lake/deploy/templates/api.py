"""The API stack: the serving table that the export_serving job fills, the prediction API's
Lambda function (api/prediction_api.py) with a role that may only read that table, and the
REST API in front of it: a {proxy+} resource (any method, API key required) proxied to the
function, /health and /openapi.json open, a stage with access logs and tracing, an API key
and a usage plan that throttles it."""

from __future__ import annotations

from typing import Any

from instacart_lake.deploy.templates.intrinsics import (
    POWERTOOLS_LAYER_PARAMETER,
    STAGE_PARAMETER,
    allow,
    assume_role_policy,
    checkov_skips,
    get_att,
    key_arn,
    log_group,
    policy,
    ref,
    resource_parameters,
    string_parameter,
    sub,
)
from instacart_lake.deploy.templates.orchestration import LAMBDA_BUNDLE
from instacart_lake.serving.dynamodb import ATTRIBUTE_DEFINITIONS, KEY_SCHEMA

SOURCES = "instacart_lake/serving/dynamodb.py (the table's keys) and instacart_lake/deploy/templates/api.py"
HANDLER = "api.prediction_api.handler"
FUNCTION_NAME = "${Stage}-instacart-prediction-api"
API_STAGE = "v1"
PUBLIC_PATHS = ("health", "openapi.json")
"""Answered without an API key (the handler's PUBLIC_PATHS)."""
ACCESS_LOG_FORMAT = ('{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
                     '"apiKeyId":"$context.identity.apiKeyId","method":"$context.httpMethod",'
                     '"path":"$context.path","status":"$context.status","latencyMs":"$context.responseLatency",'
                     '"integrationLatencyMs":"$context.integrationLatency","time":"$context.requestTime"}')


def _serving_table() -> dict[str, Any]:
    return {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "TableName": sub("${Stage}-instacart-serving"),
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": ATTRIBUTE_DEFINITIONS,
            "KeySchema": KEY_SCHEMA,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn()},
        },
    }


def _function_role() -> dict[str, Any]:
    statements = [
        allow(["dynamodb:BatchGetItem", "dynamodb:GetItem"], get_att("ServingTable", "Arn"), "ReadTheServingTable"),
        allow(["kms:Decrypt"], key_arn(), "UseTheDataKey"),
        allow(["logs:CreateLogStream", "logs:PutLogEvents"], get_att("PredictionApiLogs", "Arn"), "WriteItsLogs"),
        allow(["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*", "SendTraces"),
    ]
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": sub(FUNCTION_NAME),
            "Description": "The prediction API: reads the serving table",
            "AssumeRolePolicyDocument": assume_role_policy("lambda.amazonaws.com"),
            "Policies": [policy("prediction-api", statements)],
        },
    }


def _function() -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Metadata": checkov_skips(
            ("CKV_AWS_117", "The function calls only DynamoDB; it reaches no resource inside a VPC."),
            ("CKV_AWS_116", "API Gateway invokes it synchronously: a failure goes back to the caller, there is no "
                            "asynchronous event to dead-letter.")),
        "Properties": {
            "FunctionName": sub(FUNCTION_NAME),
            "Description": f"The prediction API: {HANDLER}",
            "Runtime": "python3.11",
            "Handler": HANDLER,
            "Code": {"S3Bucket": ref("ArtifactsBucket"), "S3Key": sub(f"${{CodePrefix}}/{LAMBDA_BUNDLE}")},
            "Layers": [ref("PowertoolsLayerArn")],
            "Role": get_att("PredictionApiRole", "Arn"),
            "MemorySize": 512,
            "Timeout": 10,
            "ReservedConcurrentExecutions": ref("ReservedConcurrency"),
            "KmsKeyArn": key_arn(),
            "TracingConfig": {"Mode": "Active"},
            "LoggingConfig": {"LogGroup": ref("PredictionApiLogs"), "LogFormat": "JSON"},
            "Environment": {"Variables": {
                "LAKE_PROFILE": "aws",
                "LAKE_REGION": ref("AWS::Region"),
                "SERVING_TABLE": ref("ServingTable"),
                "POWERTOOLS_SERVICE_NAME": "prediction-api",
                "POWERTOOLS_LOG_LEVEL": "INFO",
            }},
        },
    }


def _proxy_integration() -> dict[str, Any]:
    return {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST",
            "Uri": sub("arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                       "${PredictionApi.Arn}/invocations")}


def _method(resource: str, http_method: str, api_key_required: bool) -> dict[str, Any]:
    method: dict[str, Any] = {
        "Type": "AWS::ApiGateway::Method",
        "Properties": {"RestApiId": ref("RestApi"), "ResourceId": ref(resource), "HttpMethod": http_method,
                       "AuthorizationType": "NONE", "ApiKeyRequired": api_key_required,
                       "Integration": _proxy_integration()},
    }
    if not api_key_required:
        method["Metadata"] = checkov_skips(("CKV_AWS_59", "The health check and the OpenAPI document are public; "
                                                          "every other path needs the API key."))
    return method


def _rest_api_resources() -> dict[str, Any]:
    resources: dict[str, Any] = {
        "RestApi": {
            "Type": "AWS::ApiGateway::RestApi",
            "Properties": {"Name": sub(FUNCTION_NAME), "Description": "Next baskets and reorder scores by user",
                           "ApiKeySourceType": "HEADER", "EndpointConfiguration": {"Types": ["REGIONAL"]}},
        },
        "ProxyResource": {
            "Type": "AWS::ApiGateway::Resource",
            "Properties": {"RestApiId": ref("RestApi"), "ParentId": get_att("RestApi", "RootResourceId"),
                           "PathPart": "{proxy+}"},
        },
        "ProxyMethod": _method("ProxyResource", "ANY", api_key_required=True),
    }
    methods = ["ProxyMethod"]
    for path in PUBLIC_PATHS:
        name = "".join(part.capitalize() for part in path.split("."))
        resources[f"{name}Resource"] = {
            "Type": "AWS::ApiGateway::Resource",
            "Properties": {"RestApiId": ref("RestApi"), "ParentId": get_att("RestApi", "RootResourceId"),
                           "PathPart": path},
        }
        resources[f"{name}Method"] = _method(f"{name}Resource", "GET", api_key_required=False)
        methods.append(f"{name}Method")
    resources["Deployment"] = {"Type": "AWS::ApiGateway::Deployment", "DependsOn": methods,
                               "Properties": {"RestApiId": ref("RestApi")}}
    return resources


def _stage_resources() -> dict[str, Any]:
    return {
        "AccessLogs": log_group(sub("/aws/apigateway/${Stage}-instacart-prediction-api")),
        "ApiStage": {
            "Type": "AWS::ApiGateway::Stage",
            "Metadata": checkov_skips(
                ("CKV_AWS_120", "No response cache: a new model version must be served as soon as it is exported.")),
            "Properties": {
                "RestApiId": ref("RestApi"),
                "DeploymentId": ref("Deployment"),
                "StageName": API_STAGE,
                "TracingEnabled": True,
                "AccessLogSetting": {"DestinationArn": get_att("AccessLogs", "Arn"), "Format": ACCESS_LOG_FORMAT},
                "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True,
                                    "ThrottlingRateLimit": ref("ThrottlingRateLimit"),
                                    "ThrottlingBurstLimit": ref("ThrottlingBurstLimit")}],
            },
        },
        "ApiKey": {
            "Type": "AWS::ApiGateway::ApiKey",
            "DependsOn": ["ApiStage"],
            "Properties": {"Name": sub("${Stage}-instacart-prediction-api"), "Enabled": True,
                           "Description": "The clients' key (x-api-key header)"},
        },
        "UsagePlan": {
            "Type": "AWS::ApiGateway::UsagePlan",
            "DependsOn": ["ApiStage"],
            "Properties": {
                "UsagePlanName": sub("${Stage}-instacart-prediction-api"),
                "ApiStages": [{"ApiId": ref("RestApi"), "Stage": API_STAGE}],
                "Throttle": {"RateLimit": ref("ThrottlingRateLimit"), "BurstLimit": ref("ThrottlingBurstLimit")},
            },
        },
        "UsagePlanKey": {
            "Type": "AWS::ApiGateway::UsagePlanKey",
            "Properties": {"KeyId": ref("ApiKey"), "KeyType": "API_KEY", "UsagePlanId": ref("UsagePlan")},
        },
        "InvokePermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {"Action": "lambda:InvokeFunction", "FunctionName": ref("PredictionApi"),
                           "Principal": "apigateway.amazonaws.com",
                           "SourceArn": sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                                            "${RestApi}/*")},
        },
    }


def template() -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Instacart lake API: the serving table, the prediction API's Lambda function and its REST API "
                       "with an API key and a throttling usage plan.",
        "Parameters": {
            **STAGE_PARAMETER,
            **resource_parameters("ArtifactsBucket", "DataKey"),
            "CodePrefix": string_parameter("The artifacts bucket's prefix of this code version (lake deploy)"),
            "PowertoolsLayerArn": POWERTOOLS_LAYER_PARAMETER,
            "ThrottlingRateLimit": {"Type": "Number", "Default": 1000, "MinValue": 1,
                                    "Description": "Steady requests per second of the stage and the usage plan"},
            "ThrottlingBurstLimit": {"Type": "Number", "Default": 2000, "MinValue": 1,
                                     "Description": "Burst of requests of the stage and the usage plan"},
            "ReservedConcurrency": {"Type": "Number", "Default": 50, "MinValue": 1,
                                    "Description": "Concurrent executions reserved for the function"},
        },
        "Resources": {
            "ServingTable": _serving_table(),
            "PredictionApiLogs": log_group(sub(f"/aws/lambda/{FUNCTION_NAME}")),
            "PredictionApiRole": _function_role(),
            "PredictionApi": _function(),
            **_rest_api_resources(),
            **_stage_resources(),
        },
        "Outputs": {
            "ApiUrl": {"Description": "The API's base URL",
                       "Value": sub(f"https://${{RestApi}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{API_STAGE}")},
        },
    }
