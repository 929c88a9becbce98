"""CloudWatch metrics as Embedded Metric Format (EMF) records, built from the declarations of
instacart_lake/observability/metrics.toml: one JSON object per table (or stage) and job run
that CloudWatch turns into metrics when it reads the log.

Every record is kept in the lake's metadata (`runs/<job run id>.emf.jsonl`), where `lake
alarms` and `lake report` read them. With the aws profile the records are also sent with
PutMetricData: CloudWatch reads EMF from Lambda's logs, not from a Glue job's, so the jobs
publish their metrics themselves. Handler errors are the Lambda service's own metric
(AWS/Lambda Errors); locally the event loop records them in the same shape.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any, Iterable, Mapping

from instacart_lake import storage
from instacart_lake.aws_clients import boto3_client
from instacart_lake.context import Lake
from instacart_lake.dq import Action, RulesetResult
from instacart_lake.observability.declarations import Declarations, Metric, load_declarations

PUT_METRIC_DATA_LIMIT = 500
"""Metric data per PutMetricData request (CloudWatch takes up to 1,000)."""


def emf_record(metrics: Iterable[Metric], values: Mapping[str, float | None], dimensions: Mapping[str, str],
               timestamp_ms: int | None = None, declarations: Declarations | None = None) -> dict | None:
    """The EMF object of the given metrics (one namespace and dimension set group) with
    `values` by metric name; None when no value is given. `dimensions` must name every
    dimension of the group's sets."""
    declared = declarations or load_declarations()
    present = [metric for metric in metrics if values.get(metric.name) is not None]
    if not present:
        return None
    groups = {(metric.namespace, metric.per) for metric in present}
    if len(groups) > 1:
        raise ValueError(f"one EMF record takes metrics of one namespace and dimension sets, got {sorted(groups)}")
    sets = declared.dimension_sets_of(present[0])
    missing = {name for names in sets for name in names} - set(dimensions)
    if missing:
        raise ValueError(f"EMF record of {[m.name for m in present]} lacks the dimensions {sorted(missing)}")
    return {
        "_aws": {
            "Timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
            "CloudWatchMetrics": [{
                "Namespace": present[0].namespace,
                "Dimensions": [list(names) for names in sets],
                "Metrics": [{"Name": metric.name, "Unit": metric.unit} for metric in present],
            }],
        },
        **dimensions,
        **{metric.name: float(values[metric.name]) for metric in present},
    }


def _lookup(values: Mapping[str, Any], path: str) -> Any:
    for key in path.split("."):
        if not isinstance(values, Mapping) or key not in values:
            return None
        values = values[key]
    return values


def job_records(stage: str, run_id: str, results: Mapping[str, Any], seconds: float,
                declarations: Declarations | None = None) -> list[dict]:
    """The records of what a job run reported (`{"tables": {...}, "details": {...}}`): the
    `counts.*` metrics of each table, the `details.*` metrics and its seconds."""
    declared = declarations or load_declarations()
    of_stage = [metric for metric in declared.metrics.values() if stage in metric.stages]
    per_table = [metric for metric in of_stage if metric.source.startswith("counts.")]
    records = [emf_record(per_table, {m.name: counts.get(m.source.removeprefix("counts.")) for m in per_table},
                          {"Stage": stage, "Table": table, "Run": run_id}, declarations=declared)
               for table, counts in sorted(results.get("tables", {}).items())]
    per_stage = [metric for metric in of_stage
                 if metric.source.startswith("details.") or metric.source == "job.seconds"]
    stage_values = {m.name: seconds if m.source == "job.seconds"
                    else _lookup(results.get("details", {}), m.source.removeprefix("details.")) for m in per_stage}
    records.append(emf_record(per_stage, stage_values, {"Stage": stage, "Run": run_id}, declarations=declared))
    return [record for record in records if record is not None]


def gate_records(stage: str, run_id: str, results: Mapping[str, RulesetResult],
                 declarations: Declarations | None = None) -> list[dict]:
    """The `gate.*` metrics of each table's ruleset result."""
    declared = declarations or load_declarations()
    metrics = [metric for metric in declared.metrics_from("gate.") if stage in metric.stages]
    records = []
    for table, result in sorted(results.items()):
        measured = {"score": result.score, "rules_failed": sum(not rule.passed for rule in result),
                    "stop_rules_failed": len(result.not_passed(Action.STOP))}
        values = {metric.name: measured[metric.source.removeprefix("gate.")] for metric in metrics}
        records.append(emf_record(metrics, values, {"Stage": stage, "Table": table, "Run": run_id},
                                  declarations=declared))
    return [record for record in records if record is not None]


def handler_error_record(function_name: str, declarations: Declarations | None = None) -> dict:
    """One error of a handler, as the Lambda service counts it (AWS/Lambda Errors)."""
    declared = declarations or load_declarations()
    return emf_record([declared.metric("Errors")], {"Errors": 1}, {"FunctionName": function_name},
                      declarations=declared)


def metrics_uri(lake: Lake, run_id: str) -> str:
    return f"{lake.locations.runs_uri}/{run_id}.emf.jsonl"


def write_emf_lines(lake: Lake, run_id: str, records: list[dict]) -> str:
    """Append EMF records to the job run's metrics log (and, with the aws profile, publish
    them to CloudWatch); returns the log's URI."""
    uri = metrics_uri(lake, run_id)
    previous = storage.read_text(uri) if storage.exists(uri) else ""
    lines = "".join(json.dumps(record, sort_keys=True) + "\n" for record in records)
    storage.write_text_atomic(uri, previous + lines)
    if lake.config.catalog == "glue" and records:
        put_metric_data(boto3_client(lake.config, "cloudwatch"), records)
    return uri


def metric_data(record: Mapping[str, Any]) -> dict[str, list[dict]]:
    """An EMF record as PutMetricData's MetricData, by namespace: each metric once per
    dimension set, as CloudWatch extracts it from the log line."""
    by_namespace: dict[str, list[dict]] = {}
    timestamp = dt.datetime.fromtimestamp(record["_aws"]["Timestamp"] / 1000, dt.timezone.utc)
    for directive in record["_aws"]["CloudWatchMetrics"]:
        data = by_namespace.setdefault(directive["Namespace"], [])
        for names in directive["Dimensions"]:
            dimensions = [{"Name": name, "Value": str(record[name])} for name in names]
            data += [{"MetricName": metric["Name"], "Dimensions": dimensions, "Value": record[metric["Name"]],
                      "Unit": metric["Unit"], "Timestamp": timestamp} for metric in directive["Metrics"]]
    return by_namespace


def put_metric_data(cloudwatch: Any, records: Iterable[Mapping[str, Any]]) -> None:
    for record in records:
        for namespace, data in metric_data(record).items():
            for start in range(0, len(data), PUT_METRIC_DATA_LIMIT):
                cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start:start + PUT_METRIC_DATA_LIMIT])


def read_emf_lines(lake: Lake, run_id: str) -> list[dict]:
    """The EMF records kept for a job run; none when it emitted nothing."""
    uri = metrics_uri(lake, run_id)
    if not storage.exists(uri):
        return []
    return [json.loads(line) for line in storage.read_text(uri).splitlines() if line.strip()]
