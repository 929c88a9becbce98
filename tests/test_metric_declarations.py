"""The metric declarations against what is built from them: the EMF records the jobs emit,
the alarms and the dashboard of the monitoring template."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from instacart_lake.deploy.templates.rendering import load_template
from instacart_lake.dq import Action
from instacart_lake.dq.results import Outcome, RuleResult, RulesetResult
from instacart_lake.errors import LakeError
from instacart_lake.monitoring import emf_record, gate_records, job_records
from instacart_lake.observability import alarm_instances, load_declarations
from instacart_lake.observability.declarations import DECLARATIONS_PATH, glue_job_names, handler_names
from instacart_lake.observability.template import template

TEMPLATE_FILE = Path(__file__).resolve().parents[1] / "cloudformation" / "monitoring.yaml"
DECLARED = load_declarations()


def test_job_results_become_the_declared_metrics_of_the_stage():
    results = {"tables": {"orders": {"raw_lines": 10, "clean_rows": 7, "quarantined_lines": 2,
                                     "dropped_duplicates": 1, "rows_written": 7, "rules": []}},
               "details": {}}

    [orders, job] = job_records("raw_to_clean", "jr_1", results, 12.5)

    assert {key: value for key, value in orders.items() if key != "_aws"} == {
        "Stage": "raw_to_clean", "Table": "orders", "Run": "jr_1",
        "RowsIn": 10.0, "RowsOut": 7.0, "RowsQuarantined": 2.0, "RowsDropped": 1.0}
    [directive] = orders["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "InstacartLake"
    assert directive["Dimensions"] == [["Stage", "Table", "Run"], ["Stage", "Table"], ["Stage"]]
    assert {"Name": "RowsQuarantined", "Unit": "Count"} in directive["Metrics"]
    assert {key: value for key, value in job.items() if key != "_aws"} == {
        "Stage": "raw_to_clean", "Run": "jr_1", "JobSeconds": 12.5}
    assert job["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "JobSeconds", "Unit": "Seconds"}]


def test_model_quality_comes_from_the_reported_evaluation_and_unknown_figures_are_left_out():
    results = {"tables": {"next_basket": {"rows_written": 5}},
               "details": {"evaluation": {"orders": 4, "f1_expected_f1": 0.4, "f1_threshold": 0.3,
                                          "f1_last_order_reorders": 0.2, "f1_oracle": None,
                                          "roc_auc": 0.8, "log_loss": 0.25}}}

    records = job_records("gold_predictions", "jr_2", results, 3.0)

    stage_record = next(record for record in records if "Table" not in record)
    assert {key: value for key, value in stage_record.items() if key != "_aws"} == {
        "Stage": "gold_predictions", "Run": "jr_2", "JobSeconds": 3.0, "ValidationOrders": 4.0,
        "ExpectedF1Score": 0.4, "ThresholdF1Score": 0.3, "LastOrderReordersF1Score": 0.2,
        "RocAucScore": 0.8, "LogLossScore": 0.25}
    [table_record] = [record for record in records if "Table" in record]
    assert table_record["RowsOut"] == 5.0 and "RowsIn" not in table_record


def test_gate_results_count_failed_rules_and_failed_stop_rules():
    result = RulesetResult("orders", (
        RuleResult("Rule_1", "RowCount > 0", Outcome.PASSED),
        RuleResult("Rule_2", 'IsComplete "order_id"', Outcome.FAILED, action=Action.STOP),
        RuleResult("Rule_3", 'Mean "x" between 1 and 2', Outcome.FAILED, action=Action.WARN),
        RuleResult("Rule_4", 'IsUnique "order_id"', Outcome.ERROR, action=Action.STOP),
    ))

    [record] = gate_records("raw_to_clean", "jr_3", {"orders": result})

    assert (record["DataQualityScore"], record["RulesFailed"], record["StopRulesFailed"]) == (0.25, 3.0, 2.0)
    assert (record["Stage"], record["Table"], record["Run"]) == ("raw_to_clean", "orders", "jr_3")


def test_an_emf_record_refuses_missing_dimensions_and_mixed_dimension_sets():
    with pytest.raises(ValueError, match="lacks the dimensions"):
        emf_record([DECLARED.metric("RowsIn")], {"RowsIn": 1}, {"Stage": "raw_to_clean"})
    with pytest.raises(ValueError, match="one namespace and dimension sets"):
        emf_record([DECLARED.metric("RowsIn"), DECLARED.metric("JobSeconds")], {"RowsIn": 1, "JobSeconds": 2},
                   {"Stage": "raw_to_clean", "Table": "orders", "Run": "jr"})


def test_every_glue_job_of_the_pipeline_reports_its_seconds():
    assert set(DECLARED.metric("JobSeconds").stages) == set(glue_job_names())


def test_a_declaration_naming_an_undeclared_metric_is_refused(tmp_path):
    text = DECLARATIONS_PATH.read_text().replace('numerator = "RowsQuarantined"', 'numerator = "RowsLost"')
    path = tmp_path / "metrics.toml"
    path.write_text(text)

    with pytest.raises(LakeError, match="alarm QuarantineShareHigh: no metric 'RowsLost' declared"):
        load_declarations.__wrapped__(path)


def _alarms_of(resources: dict) -> dict[str, dict]:
    return {props["AlarmName"]["Fn::Sub"].removeprefix("${Stage}-instacart-lake-"): props
            for props in (r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm")}


def test_the_template_has_one_alarm_per_declared_instance_on_the_declared_metric():
    built = template()
    alarms = _alarms_of(built["Resources"])
    instances = alarm_instances(DECLARED)

    assert set(alarms) == {instance.name for instance in instances}
    assert {name for name in alarms if name.startswith("StopRuleFailed-")} == {
        "StopRuleFailed-raw_to_clean", "StopRuleFailed-clean_to_curated", "StopRuleFailed-gold_predictions"}
    assert {name for name in alarms if name.startswith("HandlerErrors-")} == {
        f"HandlerErrors-{kind}" for kind in handler_names()}
    for instance in instances:
        props, alarm = alarms[instance.name], instance.alarm
        assert props["ComparisonOperator"] == alarm.comparison
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        if alarm.threshold_parameter:
            assert props["Threshold"] == {"Ref": alarm.threshold_parameter}
            assert built["Parameters"][alarm.threshold_parameter]["Default"] == alarm.threshold
        if alarm.kind == "metric":
            metric = DECLARED.metric(alarm.metric)
            assert (props["Namespace"], props["MetricName"]) == (metric.namespace, metric.name)
            assert [d["Name"] for d in props["Dimensions"]] == list(DECLARED.alarm_dimension_set(metric))
        if alarm.kind == "ratio":
            stats = [query["MetricStat"]["Metric"] for query in props["Metrics"] if "MetricStat" in query]
            assert [stat["MetricName"] for stat in stats] == [alarm.numerator, alarm.denominator]
            assert all(stat["Dimensions"] == [{"Name": "Stage", "Value": alarm.stage}] for stat in stats)


def test_the_quarantine_share_alarm_divides_quarantined_by_raw_lines_of_job_one():
    props = _alarms_of(template()["Resources"])["QuarantineShareHigh"]

    assert [query.get("Expression") for query in props["Metrics"]] == [None, None, "numerator / denominator"]
    assert props["Threshold"] == {"Ref": "QuarantineShareThreshold"}
    assert template()["Parameters"]["QuarantineShareThreshold"]["Default"] == 0.05


def test_failed_glue_job_runs_are_caught_by_a_rule_on_the_pipelines_jobs():
    resources = template()["Resources"]
    rule = resources["GlueJobRunEndedRule"]["Properties"]

    assert rule["EventPattern"] == {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"],
                                    "detail": {"jobName": glue_job_names(),
                                               "state": ["FAILED", "TIMEOUT", "STOPPED", "ERROR"]}}
    assert rule["Targets"] == [{"Arn": {"Ref": "AlarmTopic"}, "Id": "AlarmTopic"}]
    alarm = _alarms_of(resources)["GlueJobRunFailed"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Events", "TriggeredRules")
    assert alarm["Dimensions"] == [{"Name": "RuleName", "Value": {"Ref": "GlueJobRunEndedRule"}}]


def test_the_alarm_topic_is_encrypted_with_the_data_key():
    topic = template()["Resources"]["AlarmTopic"]["Properties"]

    assert topic["KmsMasterKeyId"] == {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/"
                                                  "${DataKey}"}


def test_the_dashboard_graphs_every_declared_row_and_shows_every_alarm():
    body = json.loads(template()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"])
    graphs = [widget for widget in body["widgets"] if widget["type"] == "metric"]
    searched = [re.search(r'MetricName="(\w+)"(?: Stage="(\w+)")?', widget["properties"]["metrics"][0][0]
                          ["expression"]).groups() for widget in graphs]

    assert searched == [(name, row.stage) for row in DECLARED.dashboard for name in row.metrics]
    [alarms] = [widget for widget in body["widgets"] if widget["type"] == "alarm"]
    assert [arn.rsplit(":alarm:", 1)[1] for arn in alarms["properties"]["alarms"]] == [
        f"${{Stage}}-instacart-lake-{instance.name}" for instance in alarm_instances(DECLARED)]


def test_the_committed_template_is_the_one_the_declarations_build():
    assert load_template(TEMPLATE_FILE) == template()


def test_on_the_aws_profile_the_records_are_published_to_cloudwatch_as_the_log_would_be(monkeypatch):
    import boto3
    from moto.server import ThreadedMotoServer

    from instacart_lake.context import Lake
    from instacart_lake.monitoring import read_emf_lines, write_emf_lines

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = "http://%s:%d" % server.get_host_and_port()
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_EC2_METADATA_DISABLED": "true", "LAKE_REGION": "eu-west-1",
                            "LAKE_ML_URI": "s3://lake-ml", "LAKE_ENDPOINT_URL": endpoint}.items():
            monkeypatch.setenv(name, value)
        boto3.client("s3", region_name="eu-west-1", endpoint_url=endpoint).create_bucket(
            Bucket="lake-ml", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        records = job_records("raw_to_clean", "jr_1", {"tables": {"orders": {
            "raw_lines": 100, "clean_rows": 90, "quarantined_lines": 9}}}, 12.5)
        lake = Lake.from_environment(profile="aws")
        write_emf_lines(lake, "jr_1", records)
        cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1", endpoint_url=endpoint)
        published = {(metric["MetricName"], tuple(sorted((item["Name"], item["Value"])
                                                         for item in metric["Dimensions"])))
                     for metric in cloudwatch.list_metrics(Namespace="InstacartLake")["Metrics"]}
        assert read_emf_lines(lake, "jr_1") == records
    finally:
        server.stop()
    expected = {(name, tuple(sorted((key, record[key]) for key in names)))
                for record in records for directive in record["_aws"]["CloudWatchMetrics"]
                for names in directive["Dimensions"] for name in (metric["Name"] for metric in directive["Metrics"])}
    assert published == expected
    assert ("RowsQuarantined", (("Stage", "raw_to_clean"), ("Table", "orders"))) in published
