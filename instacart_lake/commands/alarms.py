"""`lake alarms`: the alarms of the monitoring stack evaluated against the local metrics of
the last runs: which would fire, and why."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from rich.table import Table

from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.observability import alarm_instances, load_declarations
from instacart_lake.observability.alarm_evaluation import ALARM, evaluate_alarms
from instacart_lake.observability.run_history import load_history
from instacart_lake.progress import new_console

HELP = ("evaluate the alarms of the monitoring stack (instacart_lake/observability/metrics.toml) against the "
        "local metrics of the last runs: which would fire and why")
STATE_STYLES = {"ALARM": "bold red", "OK": "green"}


def _threshold(text: str) -> tuple[str, float]:
    name, separator, value = text.partition("=")
    try:
        if not separator:
            raise ValueError
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=NUMBER") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=5, metavar="N", help="the last N runs (default 5)")
    parser.add_argument("--threshold", type=_threshold, action="append", default=[], metavar="NAME=VALUE",
                        help="a threshold parameter of the template (e.g. QuarantineShareThreshold=0.1)")
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON")


def run(args: argparse.Namespace, lake: Lake) -> int:
    if args.runs < 1:
        raise LakeError(f"--runs {args.runs}: give at least 1")
    declarations = load_declarations()
    instances = alarm_instances(declarations)
    parameters = {alarm.threshold_parameter for alarm in declarations.alarms.values() if alarm.threshold_parameter}
    thresholds = dict(args.threshold)
    unknown = sorted(set(thresholds) - parameters)
    if unknown:
        raise LakeError(f"--threshold {', '.join(unknown)}: no such threshold parameter "
                        f"(known: {', '.join(sorted(parameters))})")
    verdicts = evaluate_alarms(instances, load_history(lake, last=args.runs), declarations, thresholds)
    if args.json:
        print(json.dumps([asdict(verdict) for verdict in verdicts], indent=2))
        return 0
    firing = [verdict for verdict in verdicts if verdict.state == ALARM]
    table = Table("run", "alarm", "state", "why",
                  title=f"{len(firing)} of {len(verdicts)} alarm evaluations would fire")
    for verdict in verdicts:
        style = STATE_STYLES[verdict.state]
        table.add_row(verdict.run_id, verdict.alarm, f"[{style}]{verdict.state}[/{style}]", verdict.reason)
    new_console().print(table)
    return 0
