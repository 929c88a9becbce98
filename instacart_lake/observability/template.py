"""The monitoring stack, built from the declarations of metrics.toml: an SNS topic (encrypted
with the lake's data key) that every alarm notifies; an EventBridge rule on Glue Job State
Change for the pipeline's Glue jobs ending failed, timed out, stopped or in error, alarmed
through its TriggeredRules metric; a CloudWatch alarm per declared alarm instance (a stop
rule failed, the quarantine share of a run, the model's F1, handler errors, the API, the
stream); and a dashboard of the declared rows with the alarms' states.

`template()` returns the template of cloudformation/monitoring.yaml."""

from __future__ import annotations

import json
from typing import Any

from instacart_lake.deploy.templates.intrinsics import (
    STAGE_PARAMETER,
    camel,
    get_att,
    key_arn,
    ref,
    resource_parameters,
    string_parameter,
    sub,
)
from instacart_lake.deploy.templates.orchestration import function_name_text
from instacart_lake.observability.declarations import (
    Alarm,
    AlarmInstance,
    Declarations,
    alarm_instances,
    glue_job_names,
    load_declarations,
)

SOURCES = "instacart_lake/observability/metrics.toml, orchestration/pipeline.toml and observability/template.py"
PERIOD_SECONDS = 300
TOPIC = "AlarmTopic"
JOB_STATE_RULE = "GlueJobRunEndedRule"
DASHBOARD_COLUMNS = 4


def alarm_name(instance: AlarmInstance) -> str:
    """The deployed alarm's name (a Fn::Sub string)."""
    return f"${{Stage}}-instacart-lake-{instance.name}"


def _dimensions(instance: AlarmInstance) -> list[dict[str, Any]]:
    return [{"Name": name, "Value": sub(function_name_text(value)) if name == "FunctionName" else value}
            for name, value in sorted(instance.dimensions.items())]


def _threshold(alarm: Alarm) -> Any:
    return ref(alarm.threshold_parameter) if alarm.threshold_parameter else alarm.threshold


def _common(instance: AlarmInstance) -> dict[str, Any]:
    alarm = instance.alarm
    return {
        "AlarmName": sub(alarm_name(instance)),
        "AlarmDescription": alarm.description,
        "ComparisonOperator": alarm.comparison,
        "Threshold": _threshold(alarm),
        "EvaluationPeriods": 1,
        "TreatMissingData": "notBreaching",
        "AlarmActions": [ref(TOPIC)],
        "OKActions": [ref(TOPIC)],
    }


def _statistic(statistic: str) -> dict[str, str]:
    return {"ExtendedStatistic": statistic} if statistic.startswith("p") else {"Statistic": statistic}


def _metric_alarm(instance: AlarmInstance, declarations: Declarations) -> dict[str, Any]:
    alarm = instance.alarm
    metric = declarations.metric(alarm.metric)
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        **_common(instance),
        "Namespace": metric.namespace,
        "MetricName": metric.name,
        "Dimensions": _dimensions(instance),
        "Period": PERIOD_SECONDS,
        **_statistic(alarm.statistic),
    }}


def _ratio_alarm(instance: AlarmInstance, declarations: Declarations) -> dict[str, Any]:
    alarm = instance.alarm

    def summed(metric_id: str, name: str) -> dict[str, Any]:
        metric = declarations.metric(name)
        return {"Id": metric_id, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": metric.namespace, "MetricName": name, "Dimensions": _dimensions(instance)},
            "Period": PERIOD_SECONDS, "Stat": "Sum"}}

    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        **_common(instance),
        "Metrics": [summed("numerator", alarm.numerator), summed("denominator", alarm.denominator),
                    {"Id": "share", "Expression": "numerator / denominator", "ReturnData": True,
                     "Label": f"{alarm.numerator} / {alarm.denominator}"}],
    }}


def _job_state_resources(instance: AlarmInstance) -> dict[str, Any]:
    """The rule (its events also go to the topic, with the job run's message) and the alarm on
    the rule's TriggeredRules metric."""
    rule = {"Type": "AWS::Events::Rule", "Properties": {
        "Name": sub(f"${{Stage}}-instacart-lake-{instance.name}"),
        "Description": instance.alarm.description,
        "EventPattern": {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"],
                         "detail": {"jobName": glue_job_names(), "state": list(instance.alarm.states)}},
        "State": "ENABLED",
        "Targets": [{"Arn": ref(TOPIC), "Id": "AlarmTopic"}],
    }}
    alarm = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        **_common(instance),
        "Namespace": "AWS/Events",
        "MetricName": "TriggeredRules",
        "Dimensions": [{"Name": "RuleName", "Value": ref(JOB_STATE_RULE)}],
        "Period": PERIOD_SECONDS,
        "Statistic": "Sum",
    }}
    return {JOB_STATE_RULE: rule, f"{camel(instance.name)}Alarm": alarm}


def _topic_resources() -> dict[str, Any]:
    publish = [{"Sid": f"{service.split('.')[0].capitalize()}Publishes", "Effect": "Allow",
                "Principal": {"Service": service}, "Action": "sns:Publish", "Resource": ref(TOPIC),
                "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}}
               for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com")]
    return {
        TOPIC: {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": sub("${Stage}-instacart-lake-alarms"),
            "DisplayName": "Instacart lake alarms",
            "KmsMasterKeyId": key_arn(),
        }},
        "AlarmTopicPolicy": {"Type": "AWS::SNS::TopicPolicy", "Properties": {
            "Topics": [ref(TOPIC)],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": publish},
        }},
        "AlarmEmailSubscription": {"Type": "AWS::SNS::Subscription", "Condition": "HasAlarmEmail",
                                   "Properties": {"TopicArn": ref(TOPIC), "Protocol": "email",
                                                  "Endpoint": ref("AlarmEmail")}},
    }


def search_expression(declarations: Declarations, metric_name: str, stage: str | None) -> str:
    """A graph's expression: the metric per table (or per stage) of the stage, or of every stage."""
    metric = declarations.metric(metric_name)
    names = next(names for names in declarations.dimension_sets_of(metric) if "Run" not in names)
    where = f' Stage="{stage}"' if stage else ""
    statistic = "Average" if metric.unit in ("None", "Milliseconds", "Seconds") else "Sum"
    return (f"SEARCH('{{{metric.namespace},{','.join(names)}}} MetricName=\"{metric_name}\"{where}', "
            f"'{statistic}', {PERIOD_SECONDS})")


def dashboard_body(declarations: Declarations, instances: list[AlarmInstance]) -> dict[str, Any]:
    """The dashboard as CloudWatch's JSON body (with ${...} for Fn::Sub): a row of graphs per
    declared row, then the states of every alarm."""
    widgets = []
    y = 0
    for row in declarations.dashboard:
        width = 24 // max(len(row.metrics), 1)
        for column, name in enumerate(row.metrics):
            expression = {"expression": search_expression(declarations, name, row.stage), "id": "e1", "label": name}
            widgets.append({"type": "metric", "x": column * width, "y": y, "width": width, "height": 6,
                            "properties": {"title": f"{row.title}: {name}", "region": "${AWS::Region}",
                                           "view": "timeSeries", "period": PERIOD_SECONDS,
                                           "metrics": [[expression]]}})
        y += 6
    alarm_arns = [f"arn:${{AWS::Partition}}:cloudwatch:${{AWS::Region}}:${{AWS::AccountId}}:alarm:"
                  f"{alarm_name(instance)}" for instance in instances]
    widgets.append({"type": "alarm", "x": 0, "y": y, "width": 24, "height": 4,
                    "properties": {"title": "Alarms", "alarms": alarm_arns}})
    return {"widgets": widgets}


def template(declarations: Declarations | None = None) -> dict[str, Any]:
    declared = declarations or load_declarations()
    instances = alarm_instances(declared)
    parameters: dict[str, Any] = {
        **STAGE_PARAMETER,
        **resource_parameters("DataKey"),
        "AlarmEmail": string_parameter("An address the alarm topic mails (empty: no subscription)", ""),
    }
    resources = _topic_resources()
    for instance in instances:
        alarm = instance.alarm
        if alarm.threshold_parameter:
            parameters[alarm.threshold_parameter] = {"Type": "Number", "Default": alarm.threshold,
                                                     "Description": f"Threshold of {alarm.name}: {alarm.description}"}
        if alarm.kind == "job_state":
            resources.update(_job_state_resources(instance))
        elif alarm.kind == "ratio":
            resources[f"{camel(instance.name)}Alarm"] = _ratio_alarm(instance, declared)
        else:
            resources[f"{camel(instance.name)}Alarm"] = _metric_alarm(instance, declared)
    resources["Dashboard"] = {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
        "DashboardName": sub("${Stage}-instacart-lake"),
        "DashboardBody": sub(json.dumps(dashboard_body(declared, instances), separators=(",", ":"))),
    }}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Instacart lake monitoring: alarms on the lake's metrics and Glue job runs, their SNS "
                       "topic and a dashboard, from instacart_lake/observability/metrics.toml.",
        "Parameters": parameters,
        "Conditions": {"HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [ref("AlarmEmail"), ""]}]}},
        "Resources": resources,
        "Outputs": {"AlarmTopic": {"Value": ref(TOPIC)},
                    "AlarmTopicArn": {"Value": get_att(TOPIC, "TopicArn")}},
    }
