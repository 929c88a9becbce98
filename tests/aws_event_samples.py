"""AWS event samples as the AWS documentation shows them (S3 event notification, Glue Job and
Glue Crawler State Change, SageMaker Training and Processing Job State Change), with this
lake's names."""

from __future__ import annotations

REGION = "eu-west-1"
BUCKET = "instacart-ml"

S3_NOTIFICATION = {"Records": [{
    "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
    "eventTime": "2025-03-01T11:00:00.000Z", "eventName": "ObjectCreated:Put",
    "userIdentity": {"principalId": "AWS:AIDAINPONIXQXHT3IKHL2"},
    "requestParameters": {"sourceIPAddress": "205.255.255.255"},
    "responseElements": {"x-amz-request-id": "D82B88E5F771F645",
                         "x-amz-id-2": "vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo="},
    "s3": {"s3SchemaVersion": "1.0", "configurationId": "raw-files-landed",
           "bucket": {"name": "instacart-lake-raw", "ownerIdentity": {"principalId": "A3I5XTEXAMAI3E"},
                      "arn": "arn:aws:s3:::instacart-lake-raw"},
           "object": {"key": "_batches/jr_20250301110000abc.json", "size": 1305107,
                      "eTag": "b21b84d653bb07b05b1e6b33684dc11b", "sequencer": "0C0F6F405D6ED209E1"}},
}]}

CRAWLER_SUCCEEDED = {
    "version": "0", "id": "05efe8a2-c309-6884-a41b-3508bb1a4e08", "detail-type": "Glue Crawler State Change",
    "source": "aws.glue", "account": "123456789012", "time": "2025-03-01T11:05:00Z", "region": REGION,
    "resources": [],
    "detail": {"tablesCreated": "0", "warningMessage": "N/A", "partitionsUpdated": "0", "tablesUpdated": "0",
               "message": "Crawler Succeeded", "partitionsDeleted": "0", "accountId": "123456789012",
               "runningTime (sec)": "26", "tablesDeleted": "0", "crawlerName": "instacart_raw_crawler",
               "completionDate": "2025-03-01T11:05:00Z", "state": "Succeeded", "partitionsCreated": "6",
               "cloudWatchLogLink": "https://console.aws.amazon.com/cloudwatch/home"},
}


def glue_job_event(job_name: str, state: str = "SUCCEEDED", message: str = "Job run succeeded",
                   event_id: str = "abcdef00-1234-5678-9abc-def012345678") -> dict:
    return {
        "version": "0", "id": event_id, "detail-type": "Glue Job State Change", "source": "aws.glue",
        "account": "123456789012", "time": "2025-03-01T12:00:00Z", "region": REGION, "resources": [],
        "detail": {"jobName": job_name, "severity": "INFO" if state == "SUCCEEDED" else "ERROR", "state": state,
                   "jobRunId": "jr_0123abcd", "message": message},
    }


def training_event(request: dict, status: str = "Completed", failure: str | None = None) -> dict:
    """The event SageMaker sends when the training job of `request` ends: its description."""
    job = request["TrainingJobName"]
    arn = f"arn:aws:sagemaker:{REGION}:123456789012:training-job/{job}"
    detail = {**request, "TrainingJobArn": arn, "TrainingJobStatus": status, "SecondaryStatus": status,
              "CreationTime": 1740830400000, "TrainingStartTime": 1740830460000, "TrainingEndTime": 1740830700000,
              "LastModifiedTime": 1740830700000,
              "ModelArtifacts": {"S3ModelArtifacts": f"s3://{BUCKET}/models/{job}/output/model.tar.gz"},
              "Tags": {tag["Key"]: tag["Value"] for tag in request["Tags"]}}
    if failure:
        detail["FailureReason"] = failure
    return {"version": "0", "id": "844e2571-85d4-695f-b930-0153b71dcb42",
            "detail-type": "SageMaker Training Job State Change", "source": "aws.sagemaker",
            "account": "123456789012", "time": "2025-03-01T12:05:00Z", "region": REGION, "resources": [arn],
            "detail": detail}


def processing_event(request: dict, status: str = "Completed", failure: str | None = None) -> dict:
    job = request["ProcessingJobName"]
    arn = f"arn:aws:sagemaker:{REGION}:123456789012:processing-job/{job}"
    detail = {**{key: value for key, value in request.items() if key != "Tags"}, "ProcessingJobArn": arn,
              "ProcessingJobStatus": status, "LastModifiedTime": 1740831000000, "CreationTime": 1740830800000}
    if failure:
        detail["FailureReason"] = failure
    return {"version": "0", "id": "0a15f67d-aa23-0123-0123-01a23w89r01t",
            "detail-type": "SageMaker Processing Job State Change", "source": "aws.sagemaker",
            "account": "123456789012", "time": "2025-03-01T12:10:00Z", "region": REGION, "resources": [arn],
            "detail": detail}
