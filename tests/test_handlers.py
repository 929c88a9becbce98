"""The handlers on events shaped like the samples of the AWS documentation: the requests they
send, read back from moto's Glue, SageMaker and S3; a failed job that stops the chain with its
error; and, through the Lambda entry points with the local services, a redelivered event that
starts one job run."""

from __future__ import annotations

import copy
import importlib
import io
import json
import tarfile
from pathlib import Path

import boto3
import pytest
from aws_event_samples import (
    BUCKET,
    CRAWLER_SUCCEEDED,
    REGION,
    S3_NOTIFICATION,
    glue_job_event,
    processing_event,
    training_event,
)
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, S3Event
from moto import mock_aws

from instacart_lake.context import Lake
from instacart_lake.handlers import (
    glue_crawler_state,
    glue_job_state,
    raw_landed,
    sagemaker_processing_state,
    sagemaker_training_state,
    services,
)
from instacart_lake.handlers.ml_settings import settings_from_environment
from instacart_lake.handlers.services import Clients
from instacart_lake.locations import uri_to_path
from instacart_lake.ml.job_requests import scored_set_uri
from instacart_lake.ml.model_card import ModelCard, load_model_card
from instacart_lake.ml.stage import scoring_request
from instacart_lake.orchestration import load_definition
from instacart_lake.orchestration.job_runs import JobRunStore
from instacart_lake.orchestration.lambda_context import LocalLambdaContext

ROLE_ARN = "arn:aws:iam::123456789012:role/instacart-sagemaker"
METRICS = {"validation_auc": 0.83, "validation_logloss": 0.25, "best_iteration": 41}
EFFECTIVE_HYPERPARAMETERS = {"num_round": 200, "max_depth": 5, "eta": 0.05}
ENVIRONMENT = {"LAKE_ML_URI": f"s3://{BUCKET}", "ML_CODE_URI": f"s3://{BUCKET}/code/ml", "AWS_REGION": REGION,
               "SAGEMAKER_ROLE_ARN": ROLE_ARN, "ML_HYPERPARAMETERS": json.dumps({"max_depth": 5, "eta": 0.05})}
DEFINITION = load_definition()

@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        glue = boto3.client("glue", region_name=REGION)
        for stage in DEFINITION.stages:
            if stage.runs == "glue_job":
                glue.create_job(Name=stage.name, Role=ROLE_ARN, Command={
                    "Name": "glueetl", "ScriptLocation": f"s3://{BUCKET}/code/{stage.name}.py"})
        glue.create_database(DatabaseInput={"Name": "instacart_raw"})
        glue.create_crawler(Name="instacart_raw_crawler", Role=ROLE_ARN, DatabaseName="instacart_raw",
                            Targets={"S3Targets": [{"Path": "s3://instacart-lake-raw/"}]})
        yield Clients(glue, boto3.client("sagemaker", region_name=REGION), s3)


def job_runs(glue, job_name: str) -> list[dict]:
    return glue.get_job_runs(JobName=job_name)["JobRuns"]


def test_a_batch_marker_starts_the_crawler_and_other_objects_start_nothing(aws):
    result = raw_landed.start_crawler(S3Event(S3_NOTIFICATION), aws.glue, "instacart_raw_crawler", DEFINITION)

    assert result == {"status": "started", "stage": "crawl", "job": "instacart_raw_crawler",
                      "batches": ["_batches/jr_20250301110000abc.json"]}
    assert aws.glue.get_crawler(Name="instacart_raw_crawler")["Crawler"]["State"] == "RUNNING"
    other = copy.deepcopy(S3_NOTIFICATION)
    other["Records"][0]["s3"]["object"]["key"] = "orders/ingest_date=2025-03-01/orders.csv"
    ignored = raw_landed.start_crawler(S3Event(other), aws.glue, "instacart_raw_crawler", DEFINITION)
    assert ignored == {"status": "ignored", "reason": "no batch marker in the event"}


def test_the_crawler_s_success_starts_job_1_with_the_lake_profile(aws):
    result = glue_crawler_state.start_after_crawl(EventBridgeEvent(CRAWLER_SUCCEEDED), aws.glue,
                                                  "instacart_raw_crawler", DEFINITION, "aws")

    [run] = job_runs(aws.glue, "raw_to_clean")
    assert run["Arguments"] == {"--lake_profile": "aws"}
    assert result == {"status": "started", "stage": "raw_to_clean", "job": "raw_to_clean", "job_run_id": run["Id"]}


def test_a_succeeded_glue_job_starts_the_next_glue_job_and_the_last_ends_the_chain(aws):
    settings = settings_from_environment(ENVIRONMENT)

    result = glue_job_state.start_after_glue_job(EventBridgeEvent(glue_job_event("raw_to_clean")), aws,
                                                 DEFINITION, "aws", settings)
    exported = glue_job_state.start_after_glue_job(EventBridgeEvent(glue_job_event("gold_predictions")), aws,
                                                   DEFINITION, "aws", settings)
    ended = glue_job_state.start_after_glue_job(EventBridgeEvent(glue_job_event("export_serving")), aws,
                                                DEFINITION, "aws", settings)

    [run] = job_runs(aws.glue, "clean_to_curated")
    [export] = job_runs(aws.glue, "export_serving")
    assert (result["stage"], result["job_run_id"], run["Arguments"]) == (
        "clean_to_curated", run["Id"], {"--lake_profile": "aws"})
    assert (exported["stage"], exported["job_run_id"], export["Arguments"]) == (
        "export_serving", export["Id"], {"--lake_profile": "aws"})
    assert ended == {"status": "chain_ended", "job": "export_serving"}


@pytest.mark.parametrize("state, message", [
    ("FAILED", "QualityGateFailed: data-quality gate failed, nothing committed to the clean tables: orders"),
    ("TIMEOUT", "Job run timed out"),
    ("STOPPED", "Job run stopped"),
])
def test_an_unsuccessful_glue_job_stops_the_chain_with_its_error(aws, state, message):
    settings = settings_from_environment(ENVIRONMENT)

    result = glue_job_state.start_after_glue_job(EventBridgeEvent(glue_job_event("raw_to_clean", state, message)),
                                                 aws, DEFINITION, "aws", settings)

    assert result == {"status": "stopped", "job": "raw_to_clean", "state": state, "error": message}
    assert job_runs(aws.glue, "clean_to_curated") == []


def test_the_sets_job_starts_the_training_job_of_a_model_version_named_by_the_event(aws):
    settings = settings_from_environment(ENVIRONMENT)
    event = EventBridgeEvent(glue_job_event("curated_to_ml"))

    result = glue_job_state.start_after_glue_job(event, aws, DEFINITION, "aws", settings)

    version = result["model_version"]
    training = aws.sagemaker.describe_training_job(TrainingJobName=f"{version}-train")
    assert version.startswith("reorder-20250301-120000-")
    assert result == {"status": "started", "stage": "train", "job": f"{version}-train", "model_version": version}
    assert training["AlgorithmSpecification"]["TrainingImage"] == (
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1")
    assert training["HyperParameters"]["sagemaker_submit_directory"] == f'"s3://{BUCKET}/code/ml/sourcedir.tar.gz"'
    assert (training["HyperParameters"]["max_depth"], training["RoleArn"]) == ("5", ROLE_ARN)
    assert [channel["DataSource"]["S3DataSource"]["S3Uri"] for channel in training["InputDataConfig"]] == [
        f"s3://{BUCKET}/sets/train/", f"s3://{BUCKET}/sets/validation/"]
    tags = aws.sagemaker.list_tags(ResourceArn=training["TrainingJobArn"])["Tags"]
    assert {"Key": "data_version:curated_to_ml_job_run_id", "Value": "jr_0123abcd"} in tags
    assert glue_job_state.model_version_for_run("jr_0123abcd", event.time) == version  # the same when redelivered


def training_output_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in (("metrics.json", METRICS), ("hyperparameters.json", EFFECTIVE_HYPERPARAMETERS)):
            data = json.dumps(content).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def started_training(aws) -> dict:
    settings = settings_from_environment(ENVIRONMENT)
    result = glue_job_state.start_after_glue_job(EventBridgeEvent(glue_job_event("curated_to_ml")), aws,
                                                 DEFINITION, "aws", settings)
    return aws.sagemaker.describe_training_job(TrainingJobName=result["job"]), settings


def test_a_completed_training_job_records_the_model_card_and_starts_the_scoring_job(aws):
    training, settings = started_training(aws)
    request = {key: training[key] for key in ("TrainingJobName", "AlgorithmSpecification", "HyperParameters",
                                              "RoleArn", "InputDataConfig", "OutputDataConfig")}
    request["Tags"] = aws.sagemaker.list_tags(ResourceArn=training["TrainingJobArn"])["Tags"]
    job = request["TrainingJobName"]
    aws.s3.put_object(Bucket=BUCKET, Key=f"models/{job}/output/output.tar.gz", Body=training_output_archive())

    result = sagemaker_training_state.start_scoring(EventBridgeEvent(training_event(request)), aws, settings,
                                                    DEFINITION)

    card_uri = f"s3://{BUCKET}/models/{job}/output/model_card.json"
    card = load_model_card(card_uri, aws.s3)
    version = job.removesuffix("-train")
    [summary] = aws.sagemaker.list_processing_jobs()["ProcessingJobSummaries"]
    processing = aws.sagemaker.describe_processing_job(ProcessingJobName=summary["ProcessingJobName"])
    assert result == {"status": "started", "stage": "score", "job": processing["ProcessingJobName"],
                      "model_version": version, "model_card_uri": card_uri, "metrics": METRICS}
    assert (card.model_version, card.metrics, card.hyperparameters) == (version, METRICS, EFFECTIVE_HYPERPARAMETERS)
    assert card.data_versions == {"curated_to_ml_job_run_id": "jr_0123abcd"}
    assert [(item["InputName"], item["S3Input"]["S3Uri"]) for item in processing["ProcessingInputs"]] == [
        ("code", f"s3://{BUCKET}/code/ml/"), ("model", f"s3://{BUCKET}/models/{job}/output/model.tar.gz"),
        ("inference", f"s3://{BUCKET}/sets/inference/"), ("validation", f"s3://{BUCKET}/sets/validation_ids/")]
    assert processing["AppSpecification"]["ContainerArguments"][-2:] == ["--model_version", version]


def test_a_failed_training_job_stops_the_chain_with_its_failure_reason(aws):
    training, settings = started_training(aws)
    request = {key: training[key] for key in ("TrainingJobName", "AlgorithmSpecification", "InputDataConfig")}
    request["Tags"] = []
    reason = "AlgorithmError: ExecuteUserScriptError: exit status 1"

    result = sagemaker_training_state.start_scoring(EventBridgeEvent(training_event(request, "Failed", reason)), aws,
                                                    settings, DEFINITION)

    assert result == {"status": "stopped", "job": request["TrainingJobName"], "state": "Failed", "error": reason}
    assert aws.sagemaker.list_processing_jobs()["ProcessingJobSummaries"] == []


def test_a_completed_scoring_job_starts_the_gold_job_with_the_card_and_the_scores(aws):
    settings = settings_from_environment(ENVIRONMENT)
    version = "reorder-20250301-120000-1a2b3c4d"
    model_uri = f"s3://{BUCKET}/models/{version}-train/output/model.tar.gz"
    card = ModelCard(version, f"{version}-train", model_uri, model_uri.replace("model.tar.gz", "output.tar.gz"),
                     "image", "2025-03-01T12:05:00+00:00", EFFECTIVE_HYPERPARAMETERS, METRICS, {})
    request = scoring_request(settings, card)

    result = sagemaker_processing_state.start_publication(EventBridgeEvent(processing_event(request)), aws, settings,
                                                          DEFINITION, "aws", "file:///data/ground_truth.csv")

    [run] = job_runs(aws.glue, "gold_predictions")
    assert run["Arguments"] == {
        "--lake_profile": "aws",
        "--model_card_uri": f"s3://{BUCKET}/models/{version}-train/output/model_card.json",
        "--scores_uri": scored_set_uri(settings, version, "inference"),
        "--validation_scores_uri": f"s3://{BUCKET}/scores/model_version={version}/validation",
        "--ground_truth_uri": "file:///data/ground_truth.csv"}
    assert result == {"status": "started", "stage": "gold_predictions", "job": "gold_predictions",
                      "job_run_id": run["Id"]}
    failed = sagemaker_processing_state.start_publication(
        EventBridgeEvent(processing_event(request, "Failed", "ClientError: score.py exited 1")), aws, settings,
        DEFINITION, "aws")
    assert failed["error"] == "ClientError: score.py exited 1" and len(job_runs(aws.glue, "gold_predictions")) == 1


@pytest.fixture
def local_lake(lake, monkeypatch):
    """The handlers' Lambda entry points as `lake run` calls them: local services on `lake`."""
    monkeypatch.setenv("LAKE_PROFILE", "local")
    monkeypatch.setenv("LAKE_ROOT", str(Path(uri_to_path(lake.locations.zone_uri("raw"))).parent))
    return Lake.from_environment()


def test_a_redelivered_event_starts_one_job_run(local_lake):
    store = JobRunStore(local_lake)
    event = glue_job_event("raw_to_clean", event_id="7a9f1c52-0d3e-4b8e-9c1a-5e2f8d7b6a41")

    first = glue_job_state.handler(event, LocalLambdaContext("glue-job-state"))
    second = glue_job_state.handler(copy.deepcopy(event), LocalLambdaContext("glue-job-state"))

    [run] = store.find("glue_job", "clean_to_curated")
    assert first == second == {"status": "started", "stage": "clean_to_curated", "job": "clean_to_curated",
                               "job_run_id": run.run_id}
    assert (run.state, run.arguments) == ("STARTING", {"--lake_profile": "local"})
    raw_landed.handler(S3_NOTIFICATION, LocalLambdaContext("raw-landed"))
    raw_landed.handler(copy.deepcopy(S3_NOTIFICATION), LocalLambdaContext("raw-landed"))
    assert len(store.find("crawler", "instacart_raw_crawler")) == 1


def test_settings_take_the_ml_zone_of_the_aws_profile_with_lake_overrides():
    environ = {"LAKE_ML_URI": "s3://other-ml/lake/", "ML_CODE_URI": "s3://other-code/ml/",
               "AWS_REGION": REGION, "SAGEMAKER_ROLE_ARN": ROLE_ARN, "ML_ID_COLUMNS": "order_id, product_id"}

    settings = settings_from_environment(environ)

    assert (settings.train_uri, settings.models_uri, settings.scores_uri) == (
        "s3://other-ml/lake/sets/train", "s3://other-ml/lake/models", "s3://other-ml/lake/scores")
    assert settings.scored_sets == {"inference": "s3://other-ml/lake/sets/inference",
                                    "validation": "s3://other-ml/lake/sets/validation_ids"}
    assert (settings.training_source_uri, settings.scoring_code_uri) == (
        "s3://other-code/ml/sourcedir.tar.gz", "s3://other-code/ml/")
    assert (settings.region, settings.role_arn, settings.id_columns) == (REGION, ROLE_ARN, ("order_id", "product_id"))


def test_on_lambda_a_redelivered_event_starts_one_job_run_through_dynamodb(aws, monkeypatch):
    """The Lambda wiring itself: the handler module as Lambda imports it (AWS_LAMBDA_FUNCTION_NAME
    set), with its boto3 clients and its idempotency records in the DynamoDB table of the template."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "instacart-lake-glue-job-state")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "instacart-lake-idempotency")
    monkeypatch.setenv("LAKE_PROFILE", "aws")
    monkeypatch.setenv("LAKE_REGION", REGION)
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="instacart-lake-idempotency", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    event = glue_job_event("raw_to_clean", event_id="0b7c5d2e-4f1a-4c3b-8e9d-6a5f4e3d2c1b")

    importlib.reload(glue_job_state)
    try:
        first = glue_job_state.handler(event, LocalLambdaContext("glue-job-state"))
        second = glue_job_state.handler(copy.deepcopy(event), LocalLambdaContext("glue-job-state"))
    finally:
        services._lambda_clients.cache_clear()
        monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
        importlib.reload(glue_job_state)

    [run] = job_runs(aws.glue, "clean_to_curated")
    assert first == second == {"status": "started", "stage": "clean_to_curated", "job": "clean_to_curated",
                               "job_run_id": run["Id"]}
    assert run["Arguments"] == {"--lake_profile": "aws"}
    records = boto3.client("dynamodb", region_name=REGION).scan(TableName="instacart-lake-idempotency")["Items"]
    assert [record["status"]["S"] for record in records] == ["COMPLETED"]
