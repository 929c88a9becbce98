"""The trigger against moto: the SageMaker requests it sends, read back from the API, and
the model card it records."""

from __future__ import annotations

import dataclasses
import io
import json
import tarfile

import boto3
import pytest
from moto import mock_aws

from instacart_lake.ml.errors import MLStageError
from instacart_lake.ml.images import xgboost_image_uri
from instacart_lake.ml.job_requests import scored_set_uri
from instacart_lake.ml.model_card import load_model_card
from instacart_lake.ml.trigger import (
    handler,
    model_version_for_run,
    parse_glue_job_state_change,
    settings_from_environment,
)

REGION = "eu-west-1"
BUCKET = "instacart-ml"
ROLE_ARN = "arn:aws:iam::123456789012:role/instacart-sagemaker"
METRICS = {"validation_auc": 0.83, "validation_logloss": 0.25, "best_iteration": 41, "training_seconds": 12.5}
EFFECTIVE_HYPERPARAMETERS = {"num_round": 200, "max_depth": 5, "eta": 0.05}


def glue_event(job_name: str = "instacart-curated-to-ml", state: str = "SUCCEEDED") -> dict:
    return {
        "version": "0",
        "source": "aws.glue",
        "detail-type": "Glue Job State Change",
        "time": "2025-03-01T12:00:00Z",
        "region": REGION,
        "detail": {"jobName": job_name, "state": state, "jobRunId": "jr_0123abcd", "severity": "INFO"},
    }


@pytest.fixture
def aws(monkeypatch):
    environment = {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
        "CURATED_TO_ML_JOB_NAME": "instacart-curated-to-ml",
        "GOLD_JOB_NAME": "instacart-gold-predictions",
        "LAKE_ML_URI": f"s3://{BUCKET}",
        "ML_CODE_URI": f"s3://{BUCKET}/code/ml",
        "SAGEMAKER_ROLE_ARN": ROLE_ARN,
        "ML_HYPERPARAMETERS": json.dumps({"max_depth": 5, "eta": 0.05}),
        "ML_POLL_SECONDS": "1",
        "ML_JOB_TIMEOUT_SECONDS": "5",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        boto3.client("glue", region_name=REGION).create_job(
            Name="instacart-gold-predictions", Role=ROLE_ARN,
            Command={"Name": "glueetl", "ScriptLocation": f"s3://{BUCKET}/code/gold_predictions.py"})
        yield boto3.client("sagemaker", region_name=REGION), s3


def training_output_archive() -> bytes:
    """What the training script leaves in SM_OUTPUT_DATA_DIR, as SageMaker uploads it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in (("metrics.json", METRICS), ("hyperparameters.json", EFFECTIVE_HYPERPARAMETERS)):
            data = json.dumps(content).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_success_of_curated_to_ml_trains_records_the_card_and_scores(aws):
    sagemaker, s3 = aws
    event = glue_event()
    version = model_version_for_run(parse_glue_job_state_change(event))
    output_key = f"models/{version}-train/output"
    s3.put_object(Bucket=BUCKET, Key=f"{output_key}/output.tar.gz", Body=training_output_archive())

    summary = handler(event, None)

    training = sagemaker.describe_training_job(TrainingJobName=f"{version}-train")
    image = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    assert version.startswith("reorder-20250301-120000-")
    assert training["AlgorithmSpecification"]["TrainingImage"] == image
    assert training["AlgorithmSpecification"]["TrainingInputMode"] == "File"
    assert training["HyperParameters"] == {
        "max_depth": "5",
        "eta": "0.05",
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": f'"s3://{BUCKET}/code/ml/sourcedir.tar.gz"',
        "sagemaker_region": f'"{REGION}"',
        "sagemaker_container_log_level": "20",
        "sagemaker_job_name": f'"{version}-train"',
    }
    assert training["RoleArn"] == ROLE_ARN
    assert [(channel["ChannelName"], channel["ContentType"], channel["DataSource"]["S3DataSource"]["S3Uri"])
            for channel in training["InputDataConfig"]] == [
        ("train", "text/csv", f"s3://{BUCKET}/sets/train/"),
        ("validation", "text/csv", f"s3://{BUCKET}/sets/validation/"),
    ]
    assert training["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/models"
    assert training["ResourceConfig"] == {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
    assert training["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    training_tags = sagemaker.list_tags(ResourceArn=training["TrainingJobArn"])["Tags"]
    assert {"Key": "model_version", "Value": version} in training_tags

    [processing_summary] = sagemaker.list_processing_jobs()["ProcessingJobSummaries"]
    processing = sagemaker.describe_processing_job(ProcessingJobName=processing_summary["ProcessingJobName"])
    model_uri = f"s3://{BUCKET}/{output_key}/model.tar.gz"
    assert processing["ProcessingJobName"] == summary["scoring_job_name"]
    assert processing["ProcessingJobName"].startswith(f"{version}-score-")
    assert processing["AppSpecification"] == {
        "ImageUri": image,
        "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/score.py"],
        "ContainerArguments": [
            "--model_dir", "/opt/ml/processing/model",
            "--input_dir", "/opt/ml/processing/input/data",
            "--output_dir", "/opt/ml/processing/output",
            "--id_columns", "order_id,product_id",
            "--model_version", version,
        ],
    }
    assert [(item["InputName"], item["S3Input"]["S3Uri"], item["S3Input"]["LocalPath"])
            for item in processing["ProcessingInputs"]] == [
        ("code", f"s3://{BUCKET}/code/ml/", "/opt/ml/processing/input/code"),
        ("model", model_uri, "/opt/ml/processing/model"),
        ("inference", f"s3://{BUCKET}/sets/inference/", "/opt/ml/processing/input/data/inference"),
        ("validation", f"s3://{BUCKET}/sets/validation_ids/", "/opt/ml/processing/input/data/validation"),
    ]
    [output] = processing["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"] == {"S3Uri": f"s3://{BUCKET}/scores/model_version={version}/",
                                  "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}
    processing_tags = sagemaker.list_tags(ResourceArn=processing["ProcessingJobArn"])["Tags"]
    assert {"Key": "model_version", "Value": version} in processing_tags

    [gold_run] = boto3.client("glue", region_name=REGION).get_job_runs(
        JobName="instacart-gold-predictions")["JobRuns"]
    assert gold_run["Arguments"] == {
        "--lake_profile": "aws", "--model_card_uri": f"s3://{BUCKET}/{output_key}/model_card.json",
        "--scores_uri": f"s3://{BUCKET}/scores/model_version={version}/inference",
        "--validation_scores_uri": f"s3://{BUCKET}/scores/model_version={version}/validation"}

    card = load_model_card(f"s3://{BUCKET}/{output_key}/model_card.json", s3)
    assert summary == {
        "status": "completed",
        "gold_job_run_id": gold_run["Id"],
        "model_version": version,
        "model_card_uri": f"s3://{BUCKET}/{output_key}/model_card.json",
        "training_job_name": f"{version}-train",
        "scoring_job_name": processing["ProcessingJobName"],
        "score_uris": {"inference": f"s3://{BUCKET}/scores/model_version={version}/inference",
                       "validation": f"s3://{BUCKET}/scores/model_version={version}/validation"},
        "validation_auc": 0.83,
    }
    assert (card.model_version, card.model_artifact_uri, card.image_uri) == (version, model_uri, image)
    assert card.metrics == METRICS
    assert card.hyperparameters == EFFECTIVE_HYPERPARAMETERS
    assert card.data_versions == {"curated_to_ml_job_run_id": "jr_0123abcd"}
    assert card.training_channels == {"train": f"s3://{BUCKET}/sets/train/",
                                      "validation": f"s3://{BUCKET}/sets/validation/"}


@pytest.mark.parametrize("job_name, state", [
    ("instacart-curated-to-ml", "FAILED"),
    ("instacart-raw-to-clean", "SUCCEEDED"),
])
def test_other_jobs_and_unsuccessful_runs_start_nothing(aws, job_name, state):
    sagemaker, _ = aws

    summary = handler(glue_event(job_name, state), None)

    assert summary == {"status": "ignored", "job_name": job_name, "state": state}
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []
    assert sagemaker.list_processing_jobs()["ProcessingJobSummaries"] == []


def test_missing_training_output_fails_clearly(aws):
    event = glue_event()
    version = model_version_for_run(parse_glue_job_state_change(event))

    with pytest.raises(MLStageError, match=rf"s3://{BUCKET}/models/{version}-train/output/output.tar.gz: "
                                           r"cannot read artifact \(NoSuchKey\)"):
        handler(event, None)


def test_an_event_that_is_not_a_glue_job_state_change_is_refused(aws):
    with pytest.raises(MLStageError, match="not a 'Glue Job State Change' event"):
        handler({"detail-type": "Object Created", "detail": {}}, None)


def test_settings_take_the_ml_zone_of_the_aws_profile_with_lake_overrides():
    environ = {"LAKE_ML_URI": "s3://other-ml/lake/", "ML_CODE_URI": "s3://other-code/ml/",
               "AWS_REGION": REGION, "SAGEMAKER_ROLE_ARN": ROLE_ARN, "ML_ID_COLUMNS": "order_id, product_id"}

    settings = settings_from_environment(environ)

    assert (settings.train_uri, settings.validation_uri, settings.models_uri, settings.scores_uri) == (
        "s3://other-ml/lake/sets/train", "s3://other-ml/lake/sets/validation",
        "s3://other-ml/lake/models", "s3://other-ml/lake/scores")
    assert settings.scored_sets == {"inference": "s3://other-ml/lake/sets/inference",
                                    "validation": "s3://other-ml/lake/sets/validation_ids"}
    assert (settings.training_source_uri, settings.scoring_code_uri) == (
        "s3://other-code/ml/sourcedir.tar.gz", "s3://other-code/ml/")
    assert (settings.region, settings.role_arn, settings.id_columns) == (REGION, ROLE_ARN, ("order_id", "product_id"))
    assert scored_set_uri(settings, "reorder-v1", "validation") == (
        "s3://other-ml/lake/scores/model_version=reorder-v1/validation")
    with pytest.raises(MLStageError, match="no scored set 'validation_ids'; the scored sets are inference, validation"):
        scored_set_uri(settings, "reorder-v1", "validation_ids")


def test_without_lake_ml_uri_the_aws_profile_ml_zone_is_used():
    settings = settings_from_environment({"ML_CODE_URI": "s3://code/ml", "AWS_REGION": REGION,
                                          "SAGEMAKER_ROLE_ARN": ROLE_ARN})

    assert settings.train_uri == "s3://instacart-lake-ml/sets/train"
    assert settings.scored_sets["validation"] == "s3://instacart-lake-ml/sets/validation_ids"


@pytest.mark.parametrize("scored_sets, problem", [
    ({}, "scored_sets names no set to score"),
    ({"model": "s3://b/sets/x"},
     "scored set name 'model' must be 1 to 63 letters, digits, _ or - and not code or model$"),
    ({"in/ference": "s3://b/sets/x"}, "scored set name 'in/ference' must be"),
])
def test_scored_set_names_must_be_usable_as_input_names_and_folders(scored_sets, problem):
    environ = {"ML_CODE_URI": "s3://code/ml", "AWS_REGION": REGION, "SAGEMAKER_ROLE_ARN": ROLE_ARN}
    settings = settings_from_environment(environ)

    with pytest.raises(MLStageError, match=f"^{problem}"):
        dataclasses.replace(settings, scored_sets=scored_sets)


def test_image_uri_for_a_region_without_a_known_account_fails_clearly():
    expected = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    assert xgboost_image_uri("us-east-1", "1.7-1") == expected
    with pytest.raises(MLStageError, match="no SageMaker XGBoost image known for region 'mars-north-1'"):
        xgboost_image_uri("mars-north-1", "1.7-1")
