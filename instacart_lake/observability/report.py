"""The run report: one self-contained HTML page (CSS and SVG plots inline, nothing fetched)
for a run and the runs before it. `report_sections` turns run records, their metrics and the
feature comparisons into the page's sections (pure); `render_report` fills the template."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Sequence

import jinja2

from instacart_lake.observability import plots
from instacart_lake.observability.features import FeatureComparison
from instacart_lake.observability.run_history import RunView
from instacart_lake.runs import RunRecord, StageRecord

TEMPLATE = "report.html.j2"
JOB_ONE = "raw_to_clean"
MODEL_STAGE = "gold_predictions"
SECTIONS = ("timeline", "zones", "quarantine", "quality", "history", "features", "model")
BASKET_METHODS = (("f1_threshold", "threshold {threshold}"), ("f1_expected_f1", "expected-F1 baskets"),
                  ("f1_oracle", "oracle (true probabilities)"), ("f1_last_order_reorders", "last order's reorders"))


def _stage(record: RunRecord, name: str) -> StageRecord | None:
    return next((stage for stage in record.stages if stage.stage == name), None)


def _timeline(record: RunRecord) -> dict:
    stages = [stage.__dict__ for stage in record.stages]
    return {"stages": stages, "svg": plots.timeline(stages) if stages else ""}


def _zones(record: RunRecord) -> dict:
    job = _stage(record, JOB_ONE)
    tables = {name: {"raw": counts["raw_lines"], "clean": counts["clean_rows"],
                     "quarantined": counts["quarantined_lines"], "dropped": counts["dropped_duplicates"]}
              for name, counts in sorted((job.tables if job else {}).items())}
    written = [{"stage": stage.stage, "table": name, "rows": counts["rows_written"]}
               for stage in record.stages if stage.stage not in ("ingest", JOB_ONE)
               for name, counts in sorted(stage.tables.items()) if counts.get("rows_written") is not None]
    return {"tables": tables, "written": written, "svg": plots.zone_rows(tables) if tables else ""}


def _quarantine(record: RunRecord) -> dict:
    job = _stage(record, JOB_ONE)
    reasons = sorted(({"table": name, "reason": reason, "lines": lines}
                      for name, counts in (job.tables if job else {}).items()
                      for reason, lines in counts.get("quarantine_reasons", {}).items()),
                     key=lambda row: (-row["lines"], row["table"], row["reason"]))
    svg = plots.counts_bar({f"{row['table']}: {row['reason']}": row["lines"] for row in reasons},
                           "quarantined lines (a line with two reasons counts under both)") if reasons else ""
    return {"reasons": reasons, "svg": svg}


def _quality(run: RunView) -> dict:
    """Each ruleset the run evaluated: its rules from the job's report, or, where the gate
    stopped the job before it reported, the gate's metrics and the job's error."""
    rulesets, reported = [], set()
    for stage in run.record.stages:
        for name, counts in sorted(stage.tables.items()):
            if "rules" in counts:
                failed = [rule for rule in counts["rules"] if rule["outcome"] != "Passed"]
                rulesets.append({"stage": stage.stage, "table": name, "score": counts.get("quality_score"),
                                 "rules": counts["rules"], "failed": failed, "note": ""})
                reported.add((stage.stage, name))
    errors = {stage.stage: stage.error for stage in run.record.stages if stage.error}
    for record in run.metrics:
        key = (record.get("Stage"), record.get("Table"))
        if "DataQualityScore" in record and key not in reported:
            failed = int(record.get("RulesFailed", 0))
            rulesets.append({"stage": key[0], "table": key[1], "score": record["DataQualityScore"], "rules": [],
                             "failed": [None] * failed,
                             "note": f"{int(record.get('StopRulesFailed', 0))} failed stop rules; "
                                     f"{errors.get(key[0], 'the job reported no rules')}"})
            reported.add(key)
    return {"rulesets": rulesets}


def _run_label(record: RunRecord) -> str:
    return f"{record.started_at[5:16].replace('T', ' ')} {record.run_id[-6:]}"


def _history(runs: Sequence[RunView]) -> dict:
    labels = [_run_label(run.record) for run in runs]
    rows: dict[str, list] = {}
    scores: dict[str, list] = {}
    for index, run in enumerate(runs):
        for stage in run.record.stages:
            if stage.stage == "ingest":
                continue
            for name, counts in stage.tables.items():
                if counts.get("rows_written") is not None:
                    rows.setdefault(name, [None] * len(runs))[index] = counts["rows_written"]
                if counts.get("quality_score") is not None:
                    scores.setdefault(name, [None] * len(runs))[index] = counts["quality_score"]
    summaries = [{"run_id": run.record.run_id, "started_at": run.record.started_at, "outcome": run.record.outcome,
                  "stages": ", ".join(stage.stage for stage in run.record.stages)} for run in runs]
    rows_svg = plots.history(labels, dict(sorted(rows.items())), "rows written", log_scale=True) if rows else ""
    quality_svg = plots.history(labels, dict(sorted(scores.items())), "DQ score") if scores else ""
    return {"runs": summaries, "rows_svg": rows_svg, "quality_svg": quality_svg}


def _features(comparisons: Sequence[FeatureComparison], previous: RunRecord | None) -> dict:
    items = [comparison.to_dict() for comparison in comparisons]
    if not items:
        return {"rows": [], "svg": "", "note": ""}
    note = (f"Against run {previous.run_id}; PSI above 0.2 is highlighted." if previous is not None
            and any(item["previous"] is not None for item in items)
            else "No earlier run wrote these feature tables: this run's distributions alone.")
    ordered = sorted(items, key=lambda item: -(item["psi"] or 0.0))
    return {"rows": ordered, "svg": plots.feature_histograms(items), "note": note}


def _model(record: RunRecord) -> dict | None:
    stage = _stage(record, MODEL_STAGE)
    if stage is None or "evaluation" not in stage.details:
        return None
    evaluation = stage.details["evaluation"]
    methods = {label.format(**evaluation): evaluation[key] for key, label in BASKET_METHODS
               if evaluation.get(key) is not None}
    curves = stage.details.get("evaluation_curves") or {}
    model = {"version": stage.details.get("model_version"), "evaluation": evaluation,
             "f1_svg": plots.mean_f1(methods), "calibration_svg": "", "precision_recall_svg": "",
             "basket_size_svg": ""}
    if "calibration" in curves:
        model["calibration_svg"] = plots.calibration(**curves["calibration"])
    if curves.get("precision_recall", {}).get("recall"):
        model["precision_recall_svg"] = plots.precision_recall(**curves["precision_recall"])
    if "f1_by_basket_size" in curves:
        by_size = curves["f1_by_basket_size"]
        largest = by_size["largest_size_or_more"]
        sizes = [f"{size}+" if size == largest else str(size) for size in by_size["true_basket_size"]]
        model["basket_size_svg"] = plots.f1_by_basket_size(sizes, by_size["mean_f1"], by_size["orders"])
    return model


def report_sections(runs: Sequence[RunView], comparisons: Sequence[FeatureComparison],
                    previous: RunRecord | None) -> dict:
    """The page's values: the last of `runs` is the run reported, the others its history;
    `comparisons` its features against `previous` (the run before it that wrote them)."""
    run = runs[-1]
    model = _model(run.record)
    return {"run": run.record, "model_version": model["version"] if model else None,
            "timeline": _timeline(run.record), "zones": _zones(run.record), "quarantine": _quarantine(run.record),
            "quality": _quality(run), "history": _history(runs), "features": _features(comparisons, previous),
            "model": model}


def render_report(sections: dict, generated_at: str | None = None) -> str:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent),
                                     autoescape=True, undefined=jinja2.StrictUndefined)
    moment = generated_at or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return environment.get_template(TEMPLATE).render(**sections, generated_at=moment)
