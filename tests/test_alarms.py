"""`lake alarms` on runs made to trip each alarm: run records and metrics written as the jobs,
the handlers' event loop and the API or stream would write them."""

from __future__ import annotations

import json

import pytest

from instacart_lake.cli import main
from instacart_lake.context import Lake
from instacart_lake.monitoring import emf_record, handler_error_record, job_records, write_emf_lines
from instacart_lake.observability import load_declarations
from instacart_lake.runs import RunRecord, StageRecord, save_run

DECLARED = load_declarations()
JOB_ONE_COUNTS = {"raw_lines": 100, "clean_rows": 97, "quarantined_lines": 2, "dropped_duplicates": 1,
                  "rows_written": 97}


def stage(name: str, job_run_id: str, state: str = "SUCCEEDED", error: str | None = None) -> StageRecord:
    return StageRecord(stage=name, outcome="succeeded" if state == "SUCCEEDED" else "failed",
                       started_at="2026-01-01T10:00:00+00:00", finished_at="2026-01-01T10:01:00+00:00",
                       job_run_id=job_run_id, state=state, error=error)


def record_run(lake: Lake, run_id: str, started_at: str, stages: list[StageRecord],
               metrics: dict[str, list[dict]]) -> None:
    save_run(lake, RunRecord(run_id=run_id, started_at=started_at, outcome="succeeded", stages=stages))
    for job_run_id, records in metrics.items():
        write_emf_lines(lake, job_run_id, records)


def healthy_job_one(job_run_id: str, counts: dict = JOB_ONE_COUNTS) -> list[dict]:
    return job_records("raw_to_clean", job_run_id, {"tables": {"orders": counts}}, 30.0)


def stage_metric(stage_name: str, job_run_id: str, name: str, value: float) -> dict:
    return emf_record([DECLARED.metric(name)], {name: value}, {"Stage": stage_name, "Run": job_run_id})


def verdicts(lake_root, *arguments: str, capsys) -> dict[tuple[str, str], dict]:
    assert main(["--lake-root", str(lake_root), "alarms", "--json", *arguments]) == 0
    return {(verdict["run_id"], verdict["alarm"]): verdict for verdict in json.loads(capsys.readouterr().out)}


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake.from_environment(root=str(tmp_path / "lake"), profile="local")


def test_a_healthy_run_fires_nothing(lake, tmp_path, capsys):
    record_run(lake, "run_ok", "2026-01-01T10:00:00+00:00", [stage("raw_to_clean", "jr_a")],
               {"jr_a": healthy_job_one("jr_a")})

    found = verdicts(tmp_path / "lake", capsys=capsys)

    assert {verdict["state"] for verdict in found.values()} == {"OK"}
    assert found[("run_ok", "QuarantineShareHigh")]["value"] == pytest.approx(0.02)
    assert found[("run_ok", "HandlerErrors-glue_job_state_change")]["reason"] == (
        "no Errors datapoints (missing data is not breaching)")


def test_each_alarm_fires_on_the_run_made_to_trip_it(lake, tmp_path, capsys):
    gate = [DECLARED.metric(name) for name in ("DataQualityScore", "RulesFailed", "StopRulesFailed")]
    gate_failure = emf_record(gate, {"DataQualityScore": 0.5, "RulesFailed": 2, "StopRulesFailed": 1},
                              {"Stage": "clean_to_curated", "Table": "up_features", "Run": "jr_c"})
    api = [stage_metric("api", "api", "ApiRequests", 200), stage_metric("api", "api", "ApiErrors", 5),
           *[stage_metric("api", "api", "ApiLatencyMilliseconds", value) for value in [20.0] * 98 + [4000.0] * 2]]
    stream = emf_record([DECLARED.metric("DeliveryLagSeconds")], {"DeliveryLagSeconds": 1200},
                        {"Stage": "stream_delivery", "Table": "orders", "Run": "jr_s"})
    record_run(lake, "run_bad", "2026-01-02T10:00:00+00:00", [
        stage("raw_to_clean", "jr_b"),
        stage("clean_to_curated", "jr_c", "FAILED", "QualityGateFailed: data-quality gate failed"),
        stage("gold_predictions", "jr_g"),
    ], {
        "jr_b": healthy_job_one("jr_b", {**JOB_ONE_COUNTS, "quarantined_lines": 10, "clean_rows": 89}),
        "jr_c": [gate_failure, handler_error_record("glue_job_state_change")],
        "jr_g": [stage_metric("gold_predictions", "jr_g", "ExpectedF1Score", 0.1)],
        "run_bad": [*api, stream],
    })

    found = verdicts(tmp_path / "lake", capsys=capsys)

    firing = {alarm: verdict for (run_id, alarm), verdict in found.items() if verdict["state"] == "ALARM"}
    assert set(firing) == {"GlueJobRunFailed", "StopRuleFailed-clean_to_curated", "QuarantineShareHigh",
                           "ExpectedF1Low", "HandlerErrors-glue_job_state_change", "ApiErrorShareHigh",
                           "ApiLatencyHigh", "StreamDeliveryLagHigh"}
    assert firing["GlueJobRunFailed"]["reason"] == (
        "clean_to_curated run jr_c ended FAILED: QualityGateFailed: data-quality gate failed")
    assert firing["StopRuleFailed-clean_to_curated"]["reason"] == (
        "Sum of StopRulesFailed (up_features 1) = 1 > 0")
    assert firing["QuarantineShareHigh"]["reason"] == (
        "RowsQuarantined / RowsIn = 10 / 100, share = 0.1 > 0.05")
    assert firing["ApiErrorShareHigh"]["value"] == pytest.approx(0.025)
    assert firing["ApiLatencyHigh"]["value"] > 1000
    assert firing["ExpectedF1Low"]["reason"].endswith("= 0.1 < 0.25")
    assert found[("run_bad", "StopRuleFailed-raw_to_clean")]["state"] == "OK"


def test_a_threshold_parameter_changes_the_verdict_and_runs_limits_the_history(lake, tmp_path, capsys):
    record_run(lake, "run_1", "2026-01-01T10:00:00+00:00", [stage("raw_to_clean", "jr_1")],
               {"jr_1": healthy_job_one("jr_1", {**JOB_ONE_COUNTS, "quarantined_lines": 10})})
    record_run(lake, "run_2", "2026-01-02T10:00:00+00:00", [stage("raw_to_clean", "jr_2")],
               {"jr_2": healthy_job_one("jr_2")})

    default = verdicts(tmp_path / "lake", capsys=capsys)
    raised = verdicts(tmp_path / "lake", "--threshold", "QuarantineShareThreshold=0.2", capsys=capsys)
    last = verdicts(tmp_path / "lake", "--runs", "1", capsys=capsys)

    assert default[("run_1", "QuarantineShareHigh")]["state"] == "ALARM"
    assert raised[("run_1", "QuarantineShareHigh")]["state"] == "OK"
    assert raised[("run_1", "QuarantineShareHigh")]["threshold"] == 0.2
    assert {run_id for run_id, _ in last} == {"run_2"}


def test_an_unknown_threshold_parameter_is_one_line(lake, tmp_path, capsys):
    record_run(lake, "run_1", "2026-01-01T10:00:00+00:00", [stage("raw_to_clean", "jr_1")], {})

    assert main(["--lake-root", str(tmp_path / "lake"), "alarms", "--threshold", "Nope=1"]) == 1
    assert capsys.readouterr().err.startswith("lake alarms: error: --threshold Nope: no such threshold parameter")


def test_without_runs_alarms_says_so(tmp_path, capsys):
    assert main(["--lake-root", str(tmp_path / "lake"), "alarms"]) == 1
    assert "no run recorded" in capsys.readouterr().err
