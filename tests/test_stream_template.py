"""The stream stack: the committed cloudformation/stream.yaml is what lake.toml's [stream]
gives, and Firehose's role reaches that stream, the two prefixes and the data key only."""

from __future__ import annotations

from instacart_lake.deploy.templates.rendering import TEMPLATES_DIR, load_template, render
from instacart_lake.stream import template as stream_template
from instacart_lake.stream.settings import load_stream_settings


def test_the_committed_template_is_the_one_lake_toml_gives():
    rendered = render(stream_template.template(), stream_template.SOURCES)
    assert (TEMPLATES_DIR / "stream.yaml").read_text(encoding="utf-8") == rendered


def test_firehose_reads_the_stream_and_writes_the_raw_and_error_prefixes_only():
    template = load_template(TEMPLATES_DIR / "stream.yaml")
    resources = template["Resources"]
    destination = resources["OrderEventsDeliveryStream"]["Properties"]["ExtendedS3DestinationConfiguration"]
    statements = {statement["Sid"]: statement for statement in
                  resources["OrderEventsDeliveryRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
    settings = load_stream_settings(environ={})

    assert destination["BufferingHints"] == {"SizeInMBs": settings.buffer_size_mib,
                                             "IntervalInSeconds": settings.buffer_interval_seconds}
    assert (destination["Prefix"], destination["ErrorOutputPrefix"], destination["CompressionFormat"]) == (
        settings.prefix, settings.error_prefix, "GZIP")
    assert statements["WriteTheStreamPrefixes"]["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${RawBucket}/order_events/*"},
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${RawBucket}/_order_event_errors/*"}]
    assert statements["ReadTheStream"]["Resource"] == [{"Fn::GetAtt": ["OrderEventsStream", "Arn"]}]
    assert resources["OrderEventsStream"]["Properties"]["StreamEncryption"]["EncryptionType"] == "KMS"
    assert all(statement["Effect"] == "Allow" and "*" not in statement["Action"] for statement in statements.values())
