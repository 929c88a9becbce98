"""The metric, alarm and dashboard declarations of metrics.toml, read and checked once.

Alarms are declared per kind; `alarm_instances` expands them into the concrete alarms (one
per stage or handler where declared so) that the template creates and `lake alarms`
evaluates, so both work from the same list.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from instacart_lake.errors import LakeError
from instacart_lake.orchestration.definition import load_definition

DECLARATIONS_PATH = Path(__file__).with_name("metrics.toml")
UNITS = frozenset({"Count", "Seconds", "Milliseconds", "None", "Percent"})
COMPARISONS = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
COMPARISON_SIGNS = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=",
                    "LessThanThreshold": "<", "LessThanOrEqualToThreshold": "<="}
STATISTICS = frozenset({"Sum", "Maximum", "Minimum", "Average", "SampleCount", "p99", "p95", "p90", "p50"})
ALARM_KINDS = frozenset({"job_state", "metric", "ratio"})


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    per: str
    """The dimension set group it is published under: table, stage or function."""
    stages: tuple[str, ...]
    source: str
    description: str
    namespace: str


@dataclass(frozen=True)
class Alarm:
    """One declared alarm (see metrics.toml for the kinds)."""

    name: str
    kind: str
    description: str
    metric: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    stage: str | None = None
    per_stage: bool = False
    per_function: bool = False
    statistic: str = "Sum"
    comparison: str = "GreaterThanThreshold"
    threshold: float = 0.0
    threshold_parameter: str | None = None
    states: tuple[str, ...] = ()

    def breaches(self, value: float, threshold: float | None = None) -> bool:
        return COMPARISONS[self.comparison](value, self.threshold if threshold is None else threshold)


@dataclass(frozen=True)
class AlarmInstance:
    """A concrete alarm: a declaration with the dimensions it watches (`Stage` for a stage
    metric, `FunctionName` as the event kind's handler for Lambda errors)."""

    alarm: Alarm
    name: str
    dimensions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DashboardRow:
    title: str
    metrics: tuple[str, ...]
    stage: str | None = None


@dataclass(frozen=True)
class Declarations:
    namespace: str
    dimensions: Mapping[str, str]
    dimension_sets: Mapping[str, tuple[tuple[str, ...], ...]]
    metrics: Mapping[str, Metric]
    alarms: Mapping[str, Alarm]
    dashboard: tuple[DashboardRow, ...]

    def metric(self, name: str) -> Metric:
        if name not in self.metrics:
            raise LakeError(f"{DECLARATIONS_PATH}: no metric {name!r} declared")
        return self.metrics[name]

    def dimension_sets_of(self, metric: Metric) -> tuple[tuple[str, ...], ...]:
        return self.dimension_sets[metric.per]

    def alarm_dimension_set(self, metric: Metric) -> tuple[str, ...]:
        """The dimension set an alarm on `metric` watches: the one without Run."""
        return next(names for names in self.dimension_sets_of(metric) if "Run" not in names
                    and "Table" not in names)

    def metrics_from(self, prefix: str) -> list[Metric]:
        """The metrics whose source starts with `prefix` (e.g. "counts.", "gate.")."""
        return [metric for metric in self.metrics.values() if metric.source.startswith(prefix)]


def _metric(name: str, values: dict[str, Any], namespace: str, groups: Mapping[str, Any]) -> Metric:
    where = f"{DECLARATIONS_PATH}: metric {name}"
    if values.get("unit") not in UNITS:
        raise LakeError(f"{where}: unit {values.get('unit')!r} is not one of {sorted(UNITS)}")
    if values.get("per") not in groups:
        raise LakeError(f"{where}: per {values.get('per')!r} names no dimension set group")
    return Metric(name=name, unit=values["unit"], per=values["per"], stages=tuple(values["stages"]),
                  source=values["source"], description=values["description"],
                  namespace=values.get("namespace", namespace))


def _alarm(name: str, values: dict[str, Any], metrics: Mapping[str, Metric]) -> Alarm:
    where = f"{DECLARATIONS_PATH}: alarm {name}"
    alarm = Alarm(name=name, **{**values, "states": tuple(values.get("states", ()))})
    if alarm.kind not in ALARM_KINDS:
        raise LakeError(f"{where}: kind {alarm.kind!r} is not one of {sorted(ALARM_KINDS)}")
    if alarm.comparison not in COMPARISONS:
        raise LakeError(f"{where}: comparison {alarm.comparison!r} is not one of {sorted(COMPARISONS)}")
    if alarm.statistic not in STATISTICS:
        raise LakeError(f"{where}: statistic {alarm.statistic!r} is not one of {sorted(STATISTICS)}")
    for metric_name in (alarm.metric, alarm.numerator, alarm.denominator):
        if metric_name is not None and metric_name not in metrics:
            raise LakeError(f"{where}: no metric {metric_name!r} declared")
    for stage in [alarm.stage] if alarm.stage else []:
        for metric_name in (alarm.metric, alarm.numerator, alarm.denominator):
            if metric_name is not None and stage not in metrics[metric_name].stages:
                raise LakeError(f"{where}: metric {metric_name} is not emitted by stage {stage}")
    return alarm


@lru_cache(maxsize=1)
def load_declarations(path: Path = DECLARATIONS_PATH) -> Declarations:
    with path.open("rb") as handle:
        values = tomllib.load(handle)
    namespace = values["namespace"]
    groups = {name: tuple(tuple(names) for names in sets) for name, sets in values["dimension_sets"].items()}
    for group, sets in groups.items():
        unknown = {name for names in sets for name in names} - set(values["dimensions"])
        if unknown:
            raise LakeError(f"{path}: dimension set {group} names undeclared dimensions {sorted(unknown)}")
    metrics = {name: _metric(name, metric, namespace, groups) for name, metric in values["metrics"].items()}
    alarms = {name: _alarm(name, alarm, metrics) for name, alarm in values["alarms"].items()}
    dashboard = tuple(DashboardRow(row["title"], tuple(row["metrics"]), row.get("stage"))
                      for row in values["dashboard"])
    for row in dashboard:
        for metric_name in row.metrics:
            if metric_name not in metrics:
                raise LakeError(f"{path}: dashboard row {row.title!r} names no declared metric {metric_name!r}")
    return Declarations(namespace, dict(values["dimensions"]), groups, metrics, alarms, dashboard)


def glue_job_names() -> list[str]:
    """The pipeline's Glue jobs (a Glue job stage is named after its job)."""
    return [stage.name for stage in load_definition().stages if stage.runs == "glue_job"]


def handler_names() -> list[str]:
    """The event kinds of the orchestration definition, each handled by one Lambda function."""
    return list(load_definition().events)


def alarm_instances(declarations: Declarations) -> list[AlarmInstance]:
    """Every concrete alarm, named `<alarm>` or `<alarm>-<stage or handler>`."""
    instances = []
    for alarm in declarations.alarms.values():
        if alarm.per_stage:
            instances += [AlarmInstance(alarm, f"{alarm.name}-{stage}", {"Stage": stage})
                          for stage in declarations.metric(alarm.metric).stages]
        elif alarm.per_function:
            instances += [AlarmInstance(alarm, f"{alarm.name}-{kind}", {"FunctionName": kind})
                          for kind in handler_names()]
        elif alarm.stage is not None:
            instances.append(AlarmInstance(alarm, alarm.name, {"Stage": alarm.stage}))
        else:
            instances.append(AlarmInstance(alarm, alarm.name))
    return instances
