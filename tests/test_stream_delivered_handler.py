"""The stream_delivered handler on Lambda: Firehose's object under the stream's prefix gets the
batch marker the raw_files_landed handler starts the chain with; anything else is ignored; a
redelivered event writes nothing more (DynamoDB idempotency, moto)."""

from __future__ import annotations

import copy
import importlib
import json

import boto3
import pytest
from moto import mock_aws

from instacart_lake.handlers import services, stream_delivered
from instacart_lake.orchestration import load_definition
from instacart_lake.orchestration.lambda_context import LocalLambdaContext

REGION = "eu-west-1"
BUCKET = "dev-instacart-raw-123456789012"
DELIVERED_KEY = "order_events/ingest_date=2026-12-01/dev-instacart-order-events-to-raw-1-2026-12-01-10-15-00-ab12.gz"


def object_created(key: str, event_id: str) -> dict:
    """EventBridge's Object Created event of an S3 bucket that sends its events there."""
    return {
        "version": "0", "id": event_id, "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": "2026-12-01T10:16:02Z", "region": REGION,
        "resources": [f"arn:aws:s3:::{BUCKET}"],
        "detail": {"version": "0", "bucket": {"name": BUCKET},
                   "object": {"key": key, "size": 1024, "etag": "b1946ac92492d2347c6235b4d2611184",
                              "sequencer": "00617F08299329D189"},
                   "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012", "reason": "PutObject"},
    }


@pytest.fixture
def on_lambda(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION, "AWS_LAMBDA_FUNCTION_NAME": "dev-instacart-stream-delivered",
                        "IDEMPOTENCY_TABLE": "dev-instacart-idempotency", "LAKE_PROFILE": "aws",
                        "LAKE_REGION": REGION, "LAKE_RAW_URI": f"s3://{BUCKET}"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName="dev-instacart-idempotency", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
        importlib.reload(stream_delivered)
        try:
            yield s3
        finally:
            services._lambda_clients.cache_clear()
            monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
            importlib.reload(stream_delivered)


def markers(s3) -> dict[str, dict]:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="_batches/").get("Contents", [])
    return {item["Key"]: json.loads(s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read())
            for item in listed}


def test_a_delivered_object_gets_one_batch_marker_that_starts_the_chain(on_lambda):
    event = object_created(DELIVERED_KEY, "17793b6e-0d77-4b5b-9c55-4c8a3a5b2e10")

    first = stream_delivered.handler(event, LocalLambdaContext("stream-delivered"))
    second = stream_delivered.handler(copy.deepcopy(event), LocalLambdaContext("stream-delivered"))

    batch_id = stream_delivered.stream_batch_id(DELIVERED_KEY)
    [(key, marker)] = markers(on_lambda).items()
    assert key == f"_batches/{batch_id}.json"
    assert load_definition().raw_files_landed.matches_key(key)
    assert marker == {"run_id": batch_id, "files": [f"s3://{BUCKET}/{DELIVERED_KEY}"]}
    assert first == second == {"status": "marked", "batch": batch_id, "marker": f"s3://{BUCKET}/{key}"}


def test_an_object_outside_the_streams_prefix_is_ignored(on_lambda):
    event = object_created("orders/ingest_date=2026-12-01/orders.csv", "2f1e0d9c-8b7a-4c6d-9e5f-1a2b3c4d5e6f")

    result = stream_delivered.handler(event, LocalLambdaContext("stream-delivered"))

    assert result["status"] == "ignored"
    assert markers(on_lambda) == {}
