"""The local event loop's side of the AWS path: the events it makes have the shape of the AWS
samples, and a job run that fails stops the chain with its error in the run record, in the
handler's answer and on the command line."""

from __future__ import annotations

import json

from aws_event_samples import CRAWLER_SUCCEEDED, S3_NOTIFICATION, glue_job_event, processing_event, training_event

from instacart_lake.cli import main
from instacart_lake.orchestration import events, load_definition
from instacart_lake.orchestration.job_execution import GLUE_JOBS_DIR
from instacart_lake.orchestration.job_runs import JobRun, JobRunStore
from instacart_lake.runs import load_latest_run


def test_the_definition_names_a_script_for_every_glue_job_and_a_handler_for_every_event():
    definition = load_definition()

    assert definition.stage_names[0] == "ingest" and definition.stages[0].started_by is None
    for stage in definition.stages[1:]:
        assert stage.started_by in definition.events, stage
        if stage.runs == "glue_job":
            assert (GLUE_JOBS_DIR / f"{stage.name}.py").is_file(), stage
    assert all(callable(kind.handler_function()) for kind in definition.events.values())
    assert definition.raw_files_landed.object_key("jr_1") == "_batches/jr_1.json"


def shape(value):
    """The keys of an event, nested; lists by their first element."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_local_events_have_the_shape_of_the_aws_samples():
    request = {"TrainingJobName": "reorder-20250301-120000-1a2b3c4d-train", "Tags": [{"Key": "k", "Value": "v"}]}
    training = events.sagemaker_training_job_state_change(
        training_event({**request, "TrainingJobArn": "arn"})["detail"], "eu-west-1")
    processing_sample = processing_event({"ProcessingJobName": "reorder-score"})

    assert shape(events.s3_object_created("instacart-lake-raw", "_batches/jr_1.json", b"{}", "eu-west-1")) == shape(
        S3_NOTIFICATION)
    assert shape(events.glue_job_state_change("raw_to_clean", "jr_1", "FAILED", "eu-west-1", "boom")) == shape(
        glue_job_event("raw_to_clean", "FAILED"))
    crawled = events.glue_crawler_state_change("instacart_raw_crawler", "Succeeded", "eu-west-1")
    assert set(crawled) == set(CRAWLER_SUCCEEDED)
    assert {"crawlerName", "state", "message"} <= set(crawled["detail"])
    assert set(training) == set(training_event(request))
    assert training["detail"]["Tags"] == {"k": "v"}
    assert set(events.sagemaker_processing_job_state_change(processing_sample["detail"], "eu-west-1")) == set(
        processing_sample)
    for event in (S3_NOTIFICATION, CRAWLER_SUCCEEDED, glue_job_event("raw_to_clean"), training_event(request),
                  processing_sample):
        assert load_definition().event_kind(event) is not None, event


def test_a_failed_job_run_stops_the_chain_and_reports_its_error(lake, tmp_path, capsys):
    root = str(tmp_path / "lake")

    assert main(["--lake-root", root, "run", "--source", str(tmp_path), "--from", "gold_predictions"]) == 1

    error = "LakeError: missing job argument(s): --model_card_uri, --scores_uri, --validation_scores_uri"
    [stage] = load_latest_run(lake).stages
    assert (stage.stage, stage.outcome, stage.state, stage.error) == ("gold_predictions", "failed", "FAILED", error)
    assert stage.next_step == {"status": "stopped", "job": "gold_predictions", "state": "FAILED", "error": error}
    assert f"lake run: error: gold_predictions (job run {stage.job_run_id}) FAILED: {error}" in capsys.readouterr().err
    [run] = JobRunStore(lake).all().values()
    assert (run.arguments, run.started_by) == ({"--lake_profile": "local"}, "lake run --from")
    assert main(["--lake-root", root, "status", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["stages"][0]["job_run_id"] == stage.job_run_id


def test_job_runs_left_by_a_run_that_ended_early_are_stopped_by_the_next(lake, tmp_path):
    store = JobRunStore(lake)
    store.save(JobRun(run_id="jr_left", kind="crawler", job="instacart_raw_crawler", arguments={}, state="RUNNING"))

    source = tmp_path / "source"
    source.mkdir()
    (source / "aisles.csv").write_text("aisle_id,aisle\n1,fresh fruits\n")

    assert main(["--lake-root", str(tmp_path / "lake"), "run", "--source", str(source), "--until", "ingest"]) == 0

    [ingested] = load_latest_run(lake).stages
    assert (ingested.stage, ingested.tables["aisles"]["rows_written"], ingested.next_step) == ("ingest", 1, None)
    left = store.get("jr_left")
    assert (left.state, left.error) == ("Stopped", "stopped: the lake run that started it ended before it")
