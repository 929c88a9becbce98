"""`lake report` on two small runs written here (run records, their metrics, two versions of a
feature table), its curves and feature comparison on explicit values, and the page opened in
headless Chromium: it renders with no console message, every section is there, and a
screenshot is saved."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from deltalake import write_deltalake

from instacart_lake.cli import main
from instacart_lake.context import Lake
from instacart_lake.locations import uri_to_path
from instacart_lake.ml.evaluation_curves import evaluation_curves
from instacart_lake.monitoring import emf_record, write_emf_lines
from instacart_lake.observability import load_declarations
from instacart_lake.observability.features import compare_feature
from instacart_lake.observability.report import SECTIONS
from instacart_lake.runs import RunRecord, StageRecord, save_run

CHROMIUM = shutil.which("chromium")
RULES = [{"rule": "RowCount > 0", "action": "stop", "outcome": "Passed", "metrics": {}, "failure_reason": None},
         {"rule": 'Mean "days_since_prior_order" between 5 and 20', "action": "warn", "outcome": "Failed",
          "metrics": {}, "failure_reason": "Value: 22.5 does not meet the constraint requirement"}]
EVALUATION = {"orders": 4, "candidates": 10, "threshold": 0.21, "f1_threshold": 0.35, "f1_expected_f1": 0.38,
              "f1_oracle": 0.44, "f1_last_order_reorders": 0.27, "expected_f1_to_oracle": 0.86, "roc_auc": 0.85,
              "log_loss": 0.25}
VALIDATION = pd.DataFrame({
    "order_id": [1, 1, 1, 2, 2, 3],
    "product_id": [10, 11, 12, 10, 13, 14],
    "label": [1, 1, 0, 0, 0, 1],
    "probability": [0.95, 0.85, 0.05, 0.15, 0.12, 0.55],
})


def _job_one(job_run_id: str, quarantined: int, started: str, finished: str) -> StageRecord:
    orders = {"raw_lines": 100, "clean_rows": 100 - quarantined - 1, "quarantined_lines": quarantined,
              "dropped_duplicates": 1, "rows_written": 100 - quarantined - 1, "quality_score": 0.5,
              "quarantine_reasons": {"out_of_range:order_dow": quarantined, "missing_value:user_id": 1},
              "rules": RULES}
    return StageRecord(stage="raw_to_clean", outcome="succeeded", started_at=started, finished_at=finished,
                       seconds=40.0, tables={"orders": orders}, job_run_id=job_run_id, state="SUCCEEDED",
                       started_by="Glue Crawler State Change 1")


def _features_stage(job_run_id: str, version: int, started: str) -> StageRecord:
    return StageRecord(stage="clean_to_curated", outcome="succeeded", started_at=started,
                       finished_at=started.replace(":30+", ":50+"), seconds=20.0, job_run_id=job_run_id,
                       state="SUCCEEDED", tables={"user_features_1": {"rows_written": 3, "version": version,
                                                                      "quality_score": 1.0, "rules": RULES[:1]}})


def _write_features(lake: Lake, user_orders: list[int], mode: str) -> None:
    path = uri_to_path(lake.locations.table_uri("curated", "user_features_1"))
    write_deltalake(path, pa.table({"user_id": pa.array([1, 2, 3], pa.int32()),
                                    "user_orders": pa.array(user_orders, pa.int32())}), mode=mode)


@pytest.fixture
def two_runs(tmp_path) -> Lake:
    """A first run, then a second with more quarantined lines, a failed gate of the gold stage
    (its metrics only) and a model evaluation; the feature table at version 0 and 1."""
    lake = Lake.from_environment(root=str(tmp_path / "lake"), profile="local")
    _write_features(lake, [4, 5, 6], "error")
    _write_features(lake, [10, 11, 12], "overwrite")
    save_run(lake, RunRecord(run_id="run_first", source="/data/a", started_at="2026-01-01T10:00:00+00:00",
                             finished_at="2026-01-01T10:01:00+00:00", outcome="succeeded", stages=[
                                 _job_one("jr_one_1", 2, "2026-01-01T10:00:00+00:00", "2026-01-01T10:00:30+00:00"),
                                 _features_stage("jr_two_1", 0, "2026-01-01T10:00:30+00:00")]))
    gold = StageRecord(stage="gold_predictions", outcome="failed", started_at="2026-01-02T10:00:50+00:00",
                       finished_at="2026-01-02T10:01:10+00:00", job_run_id="jr_gold_2", state="FAILED",
                       error="QualityGateFailed: data-quality gate failed: next_basket: RowCount > 0 (no rows)",
                       details={"model_version": "reorder-1", "evaluation": EVALUATION,
                                "evaluation_curves": evaluation_curves(VALIDATION)})
    save_run(lake, RunRecord(run_id="run_second", source="/data/b", started_at="2026-01-02T10:00:00+00:00",
                             finished_at="2026-01-02T10:01:10+00:00", outcome="failed", stages=[
                                 _job_one("jr_one_2", 9, "2026-01-02T10:00:00+00:00", "2026-01-02T10:00:30+00:00"),
                                 _features_stage("jr_two_2", 1, "2026-01-02T10:00:30+00:00"), gold]))
    declared = load_declarations()
    gate = [declared.metric(name) for name in ("DataQualityScore", "RulesFailed", "StopRulesFailed")]
    write_emf_lines(lake, "jr_gold_2", [emf_record(gate, {"DataQualityScore": 0.0, "RulesFailed": 1,
                                                          "StopRulesFailed": 1},
                                                   {"Stage": "gold_predictions", "Table": "next_basket",
                                                    "Run": "jr_gold_2"})])
    return lake


class _Page(HTMLParser):
    """The section ids, table cells and external references of a page."""

    def __init__(self):
        super().__init__()
        self.sections, self.cells, self.external, self.svgs = [], [], [], 0
        self._in_cell = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "section":
            self.sections.append(values.get("id"))
        if tag == "svg":
            self.svgs += 1
        self._in_cell = tag == "td"
        self.external += [value for name, value in attrs if name in ("src", "href") and value
                          and re.match(r"(https?:)?//", value)]

    def handle_data(self, data):
        if self._in_cell and data.strip():
            self.cells.append(data.strip())


def _report(lake: Lake, tmp_path: Path, *arguments: str, capsys) -> tuple[Path, _Page]:
    out = tmp_path / "out" / "report.html"
    root = Path(uri_to_path(lake.locations.zone_uri("raw"))).parent
    assert main(["--lake-root", str(root), "report", "--out", str(out), *arguments]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    page = _Page()
    page.feed(out.read_text())
    return out, page


def test_the_report_shows_the_run_against_its_history(two_runs, tmp_path, capsys):
    out, page = _report(two_runs, tmp_path, capsys=capsys)
    text = out.read_text()

    assert page.sections == list(SECTIONS)
    assert page.external == []
    assert "Run run_second" in text and "model version reorder-1" in text
    # rows through the zones: 100 raw lines, 90 clean, 9 quarantined, 1 dropped
    assert ["orders", "100", "90", "9", "1"] in [page.cells[i:i + 5] for i in range(len(page.cells))]
    assert ["orders", "out_of_range:order_dow", "9"] in [page.cells[i:i + 3] for i in range(len(page.cells))]
    # the failed warn rule and the gate that stopped the gold stage (known from its metrics only)
    assert 'Value: 22.5 does not meet the constraint requirement' in text
    assert "1 failed stop rules; QualityGateFailed: data-quality gate failed: next_basket" in text
    # user_orders moved from 4..6 to 10..12: means 5 and 11, a large PSI
    [row] = [page.cells[i:i + 4] for i in range(len(page.cells)) if page.cells[i] == "user_features_1.user_orders"]
    assert row[1:3] == ["11", "5"] and float(row[3]) > 1
    assert "Against run run_first" in text
    assert page.svgs == 10  # timeline, zones, reasons, 2 history, features, F1, calibration, PR, F1 by size
    for run_id in ("run_first", "run_second"):
        assert run_id in page.cells


def test_a_report_of_an_earlier_run_has_no_later_history(two_runs, tmp_path, capsys):
    out, page = _report(two_runs, tmp_path, "--run", "run_first", capsys=capsys)
    text = out.read_text()

    assert "Run run_first" in text and "run_second" not in text
    assert "No earlier run wrote these feature tables" in text
    assert "This run evaluated no model version." in text


def test_an_unknown_run_is_one_line(two_runs, capsys):
    root = Path(uri_to_path(two_runs.locations.zone_uri("raw"))).parent
    assert main(["--lake-root", str(root), "report", "--run", "run_nope"]) == 1
    assert capsys.readouterr().err.startswith("lake report: error: no run run_nope in ")


def test_the_default_report_is_written_beside_the_run_records(two_runs, capsys):
    root = Path(uri_to_path(two_runs.locations.zone_uri("raw"))).parent
    assert main(["--lake-root", str(root), "report"]) == 0
    written = Path(capsys.readouterr().out.strip())
    assert written == Path(uri_to_path(two_runs.locations.runs_uri)) / "run_second.report.html"
    assert written.read_text().startswith("<!DOCTYPE html>")


def test_evaluation_curves_of_a_small_validation_set():
    curves = evaluation_curves(VALIDATION)

    assert curves["calibration"] == {"mean_probability": [0.05, pytest.approx(0.135), 0.55, 0.85, 0.95],
                                     "share_positive": [0.0, 0.0, 1.0, 1.0, 1.0], "candidates": [1, 2, 1, 1, 1]}
    assert curves["precision_recall"]["average_precision"] == 1.0
    # order 1 (2 true) is predicted exactly and order 2 (none true) as None; order 3's one
    # candidate at 0.55 is predicted with None beside it (expected F1 2/3 against 0.55 alone)
    assert curves["f1_by_basket_size"] == {"true_basket_size": [0, 1, 2], "orders": [1, 1, 1],
                                           "mean_f1": [1.0, pytest.approx(2 / 3), 1.0], "largest_size_or_more": 10}


def test_a_feature_compared_with_itself_has_no_drift_and_a_shifted_one_has():
    values = np.array([1.0, 2.0, 2.0, 3.0])

    same = compare_feature("t", "x", values, values)
    shifted = compare_feature("t", "x", values + 10, values)

    assert same.psi == 0.0 and same.current == same.previous
    assert sum(same.current) == pytest.approx(1.0)
    assert shifted.psi > 1 and (shifted.current_mean, shifted.previous_mean) == (12.0, 2.0)


def chromium_page(page: Path, screenshot: Path) -> tuple[str, list[str]]:
    """The page's DOM after it loaded in headless Chromium, and its console messages; saves a
    screenshot of it."""
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
             "--hide-scrollbars", "--window-size=1300,4200"]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120,
                         check=True)
    subprocess.run([*flags, f"--screenshot={screenshot}", page.as_uri()], capture_output=True, timeout=120,
                   check=True)
    return dom.stdout, [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]


def test_chromium_reports_the_console_messages_of_a_broken_page(tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><script>console.error('boom'); missing();</script></body></html>")

    _, messages = chromium_page(broken, tmp_path / "broken.png")

    assert len(messages) == 2 and '"boom"' in messages[0] and "missing is not defined" in messages[1]


def test_the_report_renders_in_headless_chromium(two_runs, tmp_path, capsys):
    out, _ = _report(two_runs, tmp_path, capsys=capsys)
    screenshot = tmp_path / "report.png"

    dom, messages = chromium_page(out, screenshot)

    assert messages == []
    rendered = _Page()
    rendered.feed(dom)
    assert rendered.sections == list(SECTIONS)
    assert rendered.svgs == 10
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 50_000
