"""The declared alarms evaluated against the local metrics of runs, as CloudWatch would
evaluate them with one period per run: a run's datapoints of a metric are the EMF records
of its job runs that carry the alarm's dimensions, and missing data is not breaching (the
template's TreatMissingData); a job-state alarm looks at the run's Glue job runs, as the
EventBridge rule sees their state changes. Pure: no IO."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from instacart_lake.observability.declarations import (
    COMPARISON_SIGNS,
    AlarmInstance,
    Declarations,
    glue_job_names,
)
from instacart_lake.observability.run_history import RunView

ALARM, OK = "ALARM", "OK"


@dataclass(frozen=True)
class Verdict:
    alarm: str
    run_id: str
    state: str
    reason: str
    value: float | None = None
    threshold: float | None = None


def _datapoints(run: RunView, namespace: str, metric: str, dimensions: Mapping[str, str]) -> list[dict]:
    return [record for record in run.metrics
            if metric in record and record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == namespace
            and all(record.get(name) == value for name, value in dimensions.items())]


def statistic(values: Iterable[float], name: str) -> float:
    values = np.asarray(list(values), dtype=np.float64)
    if name.startswith("p"):
        return float(np.percentile(values, float(name[1:])))
    return float({"Sum": np.sum, "Maximum": np.max, "Minimum": np.min, "Average": np.mean,
                  "SampleCount": len}[name](values))


def _breakdown(points: list[dict], metric: str) -> str:
    """Where the values came from: `orders 2, products 0` (by table, else by stage or function)."""
    def where(record: dict) -> str:
        return record.get("Table") or record.get("Stage") or record.get("FunctionName") or "?"
    return ", ".join(f"{where(record)} {record[metric]:g}" for record in points)


def _verdict(instance: AlarmInstance, run: RunView, value: float, threshold: float, what: str) -> Verdict:
    alarm = instance.alarm
    breached = alarm.breaches(value, threshold)
    sign = COMPARISON_SIGNS[alarm.comparison]
    reason = f"{what} = {value:.4g} {'' if breached else 'not '}{sign} {threshold:g}"
    return Verdict(instance.name, run.record.run_id, ALARM if breached else OK, reason, value, threshold)


def _missing(instance: AlarmInstance, run: RunView, metric: str) -> Verdict:
    return Verdict(instance.name, run.record.run_id, OK, f"no {metric} datapoints (missing data is not breaching)")


def _job_state(instance: AlarmInstance, run: RunView) -> Verdict:
    jobs = set(glue_job_names())
    job_stages = [stage for stage in run.record.stages if stage.stage in jobs]
    ended_badly = [stage for stage in job_stages if stage.state in instance.alarm.states]
    if ended_badly:
        reason = "; ".join(f"{stage.stage} run {stage.job_run_id} ended {stage.state}"
                           + (f": {stage.error}" if stage.error else "") for stage in ended_badly)
        return Verdict(instance.name, run.record.run_id, ALARM, reason, float(len(ended_badly)), 0.0)
    return Verdict(instance.name, run.record.run_id, OK,
                   f"{len(job_stages)} Glue job runs, none ended {'/'.join(instance.alarm.states)}", 0.0, 0.0)


def evaluate_instance(instance: AlarmInstance, run: RunView, declarations: Declarations,
                      thresholds: Mapping[str, float]) -> Verdict:
    alarm = instance.alarm
    threshold = thresholds.get(alarm.threshold_parameter, alarm.threshold) if alarm.threshold_parameter \
        else alarm.threshold
    if alarm.kind == "job_state":
        return _job_state(instance, run)
    if alarm.kind == "ratio":
        sums = {}
        for name in (alarm.numerator, alarm.denominator):
            points = _datapoints(run, declarations.metric(name).namespace, name, instance.dimensions)
            sums[name] = sum(record[name] for record in points) if points else None
        if not sums[alarm.denominator]:
            return _missing(instance, run, alarm.denominator)
        what = (f"{alarm.numerator} / {alarm.denominator} = {sums[alarm.numerator] or 0:g} / "
                f"{sums[alarm.denominator]:g}, share")
        return _verdict(instance, run, (sums[alarm.numerator] or 0.0) / sums[alarm.denominator], threshold, what)
    metric = declarations.metric(alarm.metric)
    points = _datapoints(run, metric.namespace, metric.name, instance.dimensions)
    if not points:
        return _missing(instance, run, metric.name)
    value = statistic((record[metric.name] for record in points), alarm.statistic)
    what = f"{alarm.statistic} of {metric.name} ({_breakdown(points, metric.name)})"
    return _verdict(instance, run, value, threshold, what)


def evaluate_alarms(instances: list[AlarmInstance], runs: list[RunView], declarations: Declarations,
                    thresholds: Mapping[str, float] | None = None) -> list[Verdict]:
    """A verdict per run (oldest first) and alarm instance; `thresholds` overrides the
    declared defaults by threshold parameter name, as the template's parameters do."""
    return [evaluate_instance(instance, run, declarations, thresholds or {}) for run in runs for instance in instances]
