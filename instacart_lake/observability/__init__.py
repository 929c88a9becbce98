"""Seeing a run: the metric, alarm and dashboard declarations (metrics.toml), the monitoring
template built from them, the local evaluation of the alarms (`lake alarms`) and the run
report (`lake report`)."""

from instacart_lake.observability.declarations import (
    Alarm,
    AlarmInstance,
    Declarations,
    Metric,
    alarm_instances,
    load_declarations,
)

__all__ = ["Alarm", "AlarmInstance", "Declarations", "Metric", "alarm_instances", "load_declarations"]
