"""`lake deploy` and `lake destroy` against moto's CloudFormation, S3, IAM, KMS, Lambda,
EventBridge, DynamoDB, SQS, SSM and Logs. moto creates no Glue, Athena, SageMaker or
CloudWatch alarm resources from a template (it skips their types), so the Glue security
configuration's name is given as a parameter here, as it is the physical id CloudFormation
would report."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from instacart_lake.cli import main
from instacart_lake.deploy.aws_session import aws_clients
from instacart_lake.deploy.change_sets import failing_resource
from instacart_lake.deploy.deployment import deploy, destroy
from instacart_lake.deploy.packages import build_packages
from instacart_lake.deploy.stacks import DeployError, stack_templates

# moto names each resource type its CloudFormation skips (listed in the module docstring's terms).
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")

REGION = "eu-west-1"
ACCOUNT = "123456789012"
LAYER_PARAMETER = "/test/powertools/python3.11"
GIVEN = {"GlueSecurityConfiguration": "dev-instacart-lake", "PowertoolsLayerArn": LAYER_PARAMETER}


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LAKE_ENDPOINT_URL", raising=False)
    with mock_aws():
        # AWS keeps the powertools layer's public parameter in every region; moto reserves
        # /aws/ names, so one of ours stands in for it.
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=LAYER_PARAMETER, Type="String",
            Value=f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python311-x86_64:1")
        yield aws_clients(REGION)


def stack_names() -> list[str]:
    return [f"dev-instacart-{template.name}" for template in stack_templates()]


def live_stacks(clients) -> dict[str, str]:
    return {stack["StackName"]: stack["StackStatus"] for stack in clients.cloudformation.describe_stacks()["Stacks"]}


def test_a_dry_run_on_a_new_stage_plans_every_stack_and_creates_nothing(aws):
    lines: list[str] = []
    changes = deploy(aws, "dev", True, {}, lines.append)
    assert [(change.stack, change.action) for change in changes] == [(name, "create") for name in stack_names()]
    storage = changes[0]
    assert {"action": "Add", "resource": "RawBucket", "type": "AWS::S3::Bucket", "replacement": ""} in storage.changes
    assert live_stacks(aws) == {}
    assert aws.s3.list_buckets()["Buckets"] == []
    assert "dry run: nothing is changed" in lines[0]


def test_deploy_creates_the_stacks_in_order_uploads_the_code_and_wires_the_handlers(aws):
    lines: list[str] = []
    changes = deploy(aws, "dev", False, GIVEN, lines.append)
    assert [(change.stack, change.action, change.status) for change in changes] == [
        (name, "create", "CREATE_COMPLETE") for name in stack_names()]
    assert live_stacks(aws) == {name: "CREATE_COMPLETE" for name in stack_names()}

    artifacts = f"dev-instacart-artifacts-{ACCOUNT}"
    packages = build_packages()
    keys = {item["Key"] for item in aws.s3.list_objects_v2(Bucket=artifacts)["Contents"]}
    [prefix] = {"/".join(key.split("/")[:2]) for key in keys}
    assert keys == {f"{prefix}/{package.key}" for package in packages} | {
        f"{prefix}/templates/{template.path.name}" for template in stack_templates()}
    lambda_zip = aws.s3.get_object(Bucket=artifacts, Key=f"{prefix}/lambda.zip")["Body"].read()
    assert lambda_zip == next(package.data for package in packages if package.key == "lambda.zip")

    functions = {function["FunctionName"]: function
                 for function in boto3.client("lambda", region_name=REGION).list_functions()["Functions"]}
    landed = functions["dev-instacart-raw-files-landed"]
    assert landed["Handler"] == "instacart_lake.handlers.raw_landed.handler"
    assert landed["Runtime"] == "python3.11"
    assert landed["Environment"]["Variables"].items() >= {
        "LAKE_PROFILE": "aws", "LAKE_REGION": REGION, "LAKE_RAW_URI": f"s3://dev-instacart-raw-{ACCOUNT}",
        "LAKE_ML_URI": f"s3://dev-instacart-ml-{ACCOUNT}", "IDEMPOTENCY_TABLE": "dev-instacart-idempotency"}.items()
    trainer = functions["dev-instacart-glue-job-state-change"]["Environment"]["Variables"]
    assert trainer["SAGEMAKER_ROLE_ARN"] == f"arn:aws:iam::{ACCOUNT}:role/dev-instacart-sagemaker"
    assert trainer["ML_CODE_URI"] == f"s3://{artifacts}/{prefix}/ml"

    events = boto3.client("events", region_name=REGION)
    rule = events.describe_rule(Name="dev-instacart-raw-files-landed")
    pattern = json.loads(rule["EventPattern"])
    assert pattern["detail"] == {"bucket": {"name": [f"dev-instacart-raw-{ACCOUNT}"]},
                                 "object": {"key": [{"wildcard": "_batches/*.json"}]}}
    [target] = events.list_targets_by_rule(Rule="dev-instacart-raw-files-landed")["Targets"]
    assert target["Arn"] == landed["FunctionArn"]
    table = boto3.client("dynamodb", region_name=REGION).describe_table(TableName="dev-instacart-idempotency")
    assert table["Table"]["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    raw = aws.s3.get_bucket_encryption(Bucket=f"dev-instacart-raw-{ACCOUNT}")
    assert raw["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"][
        "SSEAlgorithm"] == "aws:kms"
    assert f"code {prefix}: {len(keys)} of {len(keys)} packages uploaded to s3://{artifacts}/{prefix}/" in lines
    zones = " ".join(f"LAKE_{zone.upper()}_URI=s3://dev-instacart-{zone}-{ACCOUNT}"
                     for zone in ("raw", "clean", "curated", "ml"))
    assert lines[-1] == (f"this machine reaches the stage with:\n  export LAKE_PROFILE=aws LAKE_REGION={REGION} "
                         f"{zones} LAKE_ATHENA_WORKGROUP=dev-instacart-lake "
                         "LAKE_STREAM_STREAM_NAME=dev-instacart-order-events")


def test_a_second_deploy_of_the_same_code_changes_and_uploads_nothing(aws):
    deploy(aws, "dev", False, GIVEN, lambda _: None)
    versions = len(aws.s3.list_object_versions(Bucket=f"dev-instacart-artifacts-{ACCOUNT}")["Versions"])
    lines: list[str] = []
    changes = deploy(aws, "dev", False, GIVEN, lines.append)
    assert {change.action for change in changes} == {"none"}
    assert len(aws.s3.list_object_versions(Bucket=f"dev-instacart-artifacts-{ACCOUNT}")["Versions"]) == versions
    assert [line for line in lines if "packages uploaded" in line] == [
        f"code {prefix}: 0 of {versions} packages uploaded to s3://dev-instacart-artifacts-{ACCOUNT}/{prefix}/"
        for prefix in {line.split()[1].rstrip(":") for line in lines if line.startswith("code ")}]


def test_a_dry_run_of_a_changed_parameter_lists_the_change_and_leaves_the_stack_as_it_was(aws):
    deploy(aws, "dev", False, GIVEN, lambda _: None)
    changes = deploy(aws, "dev", True, {**GIVEN, "NoncurrentVersionDays": "60"}, lambda _: None)
    storage = changes[0]
    assert storage.action == "update"
    [stack] = aws.cloudformation.describe_stacks(StackName="dev-instacart-storage")["Stacks"]
    assert {item["ParameterKey"]: item["ParameterValue"] for item in stack["Parameters"]}["NoncurrentVersionDays"] \
        == "30"
    summaries = aws.cloudformation.list_change_sets(StackName="dev-instacart-storage")["Summaries"]
    assert [summary for summary in summaries if summary["ExecutionStatus"] != "EXECUTE_COMPLETE"] == []


def test_destroy_refuses_while_a_zone_bucket_holds_data_and_deletes_it_only_when_told(aws):
    deploy(aws, "dev", False, GIVEN, lambda _: None)
    raw = f"dev-instacart-raw-{ACCOUNT}"
    aws.s3.put_object(Bucket=raw, Key="orders/ingest_date=2026-12-01/orders.csv", Body=b"order_id\n1\n")
    with pytest.raises(DeployError, match=rf"zone buckets hold data: {raw} \(1 objects\); nothing was deleted"):
        destroy(aws, "dev", False, lambda _: None)
    assert live_stacks(aws) == {name: "CREATE_COMPLETE" for name in stack_names()}

    deleted = destroy(aws, "dev", True, lambda _: None)
    assert deleted == list(reversed(stack_names()))
    assert live_stacks(aws) == {}
    assert aws.s3.list_buckets()["Buckets"] == []


def test_a_stack_that_cannot_be_created_stops_the_deploy_naming_it(aws):
    boto3.client("iam").create_role(RoleName="dev-instacart-sagemaker", AssumeRolePolicyDocument="{}")
    with pytest.raises(DeployError, match="stack dev-instacart-ml: Role with name dev-instacart-sagemaker already"):
        deploy(aws, "dev", False, GIVEN, lambda _: None)
    assert "dev-instacart-jobs" not in live_stacks(aws)


def test_the_failing_resource_is_the_first_one_that_failed_with_its_reason():
    events = [  # newest first, as DescribeStackEvents returns them
        {"LogicalResourceId": "dev-instacart-jobs", "ResourceType": "AWS::CloudFormation::Stack",
         "ResourceStatus": "ROLLBACK_COMPLETE"},
        {"LogicalResourceId": "CuratedToMl", "ResourceType": "AWS::Glue::Job", "ResourceStatus": "CREATE_FAILED",
         "ResourceStatusReason": "Resource creation cancelled"},
        {"LogicalResourceId": "RawToClean", "ResourceType": "AWS::Glue::Job", "ResourceStatus": "CREATE_FAILED",
         "ResourceStatusReason": "Invalid worker type G.9X"},
        {"LogicalResourceId": "RawToCleanRole", "ResourceType": "AWS::IAM::Role", "ResourceStatus": "CREATE_COMPLETE"},
    ]
    assert failing_resource(events) == "RawToClean (AWS::Glue::Job): Invalid worker type G.9X"


def test_the_commands_report_a_bad_stage_and_missing_credentials_in_one_line(monkeypatch, capsys):
    assert main(["deploy", "--stage", "Prod_1"]) == 1
    assert capsys.readouterr().err.strip() == ("lake deploy: error: stage 'Prod_1': use 2 to 20 lowercase letters, "
                                                "digits and hyphens, starting with a letter")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(["destroy", "--stage", "dev", "--region", REGION]) == 69  # EX_UNAVAILABLE: no credentials
    error = capsys.readouterr().err.strip()
    assert error.startswith("lake destroy: error: destroy dev: no AWS credentials")
    assert "\n" not in error
