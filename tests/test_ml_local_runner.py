"""The local runner end to end: the stage's SageMaker requests run ml/train.py and
ml/score.py in subprocesses on a tiny dataset in a local lake's ml zone."""

from __future__ import annotations

import csv
import tarfile
from pathlib import Path

import pytest
import xgboost as xgb
from ml_synthetic import FEATURE_COUNT, write_labelled_set, write_ml_sets

from instacart_lake.locations import uri_to_path
from instacart_lake.ml.errors import JobFailed, MLStageError
from instacart_lake.ml.local_runner import (
    LocalJobs,
    decode_hyperparameters,
    hyperparameter_arguments,
    local_stage_settings,
    training_environment,
)
from instacart_lake.ml.model_card import load_model_card
from instacart_lake.ml.scripts import package_scripts
from instacart_lake.ml.stage import run_ml_stage, score_model_version, train_model_version

FAST_HYPERPARAMETERS = {"num_round": 30, "early_stopping_rounds": 5, "max_depth": 3}
DATA_VERSIONS = {"curated.up_features": 4, "curated.prd_features": 2}


def ml_zone(lake) -> Path:
    return Path(uri_to_path(lake.locations.zone_uri("ml")))


def read_score_files(folder: Path) -> list[dict[str, str]]:
    rows = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def test_stage_trains_records_the_card_and_scores_every_candidate_then_rescoring_is_identical(lake):
    inference = write_ml_sets(ml_zone(lake) / "sets")
    settings = local_stage_settings(lake, hyperparameters=FAST_HYPERPARAMETERS)
    jobs = LocalJobs(num_cpus=1)

    result = run_ml_stage(settings, jobs, DATA_VERSIONS, model_version="reorder-20250301-120000-local1")

    output = ml_zone(lake) / "models" / "reorder-20250301-120000-local1-train" / "output"
    with tarfile.open(output / "model.tar.gz") as archive:
        assert archive.getnames() == ["xgboost-model"]
        archive.extract("xgboost-model", output.parent / "unpacked", filter="data")
    booster = xgb.Booster()
    booster.load_model(str(output.parent / "unpacked" / "xgboost-model"))
    assert booster.num_features() == FEATURE_COUNT
    with tarfile.open(output / "output.tar.gz") as archive:
        assert archive.getnames() == ["hyperparameters.json", "metrics.json"]

    card = load_model_card(result.model_card_uri)
    assert result.model_card_uri == (output / "model_card.json").as_uri()
    assert card == result.model_card
    assert card.model_version == "reorder-20250301-120000-local1"
    assert card.model_artifact_uri == (output / "model.tar.gz").as_uri()
    assert card.data_versions == DATA_VERSIONS
    assert card.metrics["validation_auc"] > 0.95
    assert (card.metrics["train_rows"], card.metrics["validation_rows"]) == (400, 200)
    assert (card.hyperparameters["num_round"], card.hyperparameters["max_depth"],
            card.hyperparameters["eta"]) == (30, 3, 0.1)

    scores_folder = ml_zone(lake) / "scores" / "model_version=reorder-20250301-120000-local1"
    assert Path(uri_to_path(result.scores_uri)) == scores_folder
    scores = read_score_files(scores_folder)
    assert [(int(row["order_id"]), int(row["product_id"])) for row in scores] == [
        (order_id, product_id) for order_id, product_id, _ in inference]
    assert {row["model_version"] for row in scores} == {"reorder-20250301-120000-local1"}
    first_run = {path.name: path.read_bytes() for path in scores_folder.iterdir()}

    job_name, scores_uri = score_model_version(settings, jobs, card)

    assert job_name != result.scoring_job_name
    assert scores_uri == result.scores_uri
    assert {path.name: path.read_bytes() for path in scores_folder.iterdir()} == first_run


def test_training_runs_from_the_packaged_source_archive(lake, tmp_path):
    write_ml_sets(ml_zone(lake) / "sets")
    archive = tmp_path / "code" / "sourcedir.tar.gz"
    archive.parent.mkdir()
    archive.write_bytes(package_scripts())
    settings = local_stage_settings(lake, hyperparameters=FAST_HYPERPARAMETERS,
                                    training_source_uri=archive.as_uri())

    card, _ = train_model_version(settings, LocalJobs(num_cpus=1), DATA_VERSIONS, model_version="reorder-v2")

    assert card.metrics["validation_auc"] > 0.95
    assert package_scripts() == archive.read_bytes()


def test_a_failing_script_is_reported_with_its_reason_and_stderr_tail(lake):
    sets = ml_zone(lake) / "sets"
    write_ml_sets(sets)
    write_labelled_set(sets / "validation", (30,), seed=4)
    bad_file = sets / "validation" / "part-00000.csv"
    bad_file.write_text("yes," + bad_file.read_text().split(",", 1)[1])
    settings = local_stage_settings(lake, hyperparameters=FAST_HYPERPARAMETERS)

    with pytest.raises(JobFailed) as failure:
        train_model_version(settings, LocalJobs(num_cpus=1), DATA_VERSIONS, model_version="reorder-bad")

    message = str(failure.value)
    assert message.startswith(f"job reorder-bad-train failed: {bad_file}: not a numeric CSV without header")
    assert "(exit status 1); stderr tail:\n" in message
    assert "ERROR" in message.split("stderr tail:\n", 1)[1]
    assert not (ml_zone(lake) / "models" / "reorder-bad-train").exists()


def test_s3_uris_are_refused_by_the_local_runner(lake):
    settings = local_stage_settings(lake, train_uri="s3://instacart-ml/sets/train")

    with pytest.raises(MLStageError, match="the local runner reads local URIs only; channel train is s3://"):
        train_model_version(settings, LocalJobs(num_cpus=1), DATA_VERSIONS, model_version="reorder-s3")


def test_hyperparameters_reach_the_script_as_the_training_toolkit_passes_them(tmp_path):
    decoded = decode_hyperparameters({"max_depth": "3", "eta": "0.1", "tree_method": '"hist"', "note": "plain"})

    environment = training_environment(
        job_name="reorder-v1-train", program="train.py", submit_directory="file:///code",
        channels={"train": tmp_path / "train", "validation": tmp_path / "validation"},
        hyperparameters=decoded, input_data_config={"train": {"ContentType": "text/csv"}},
        root=tmp_path / "opt_ml", num_cpus=2, log_level=20)

    assert decoded == {"max_depth": 3, "eta": 0.1, "tree_method": "hist", "note": "plain"}
    assert hyperparameter_arguments(decoded) == [
        "--eta", "0.1", "--max_depth", "3", "--note", "plain", "--tree_method", "hist"]
    assert {name: environment[name] for name in (
        "SM_MODEL_DIR", "SM_OUTPUT_DATA_DIR", "SM_CHANNEL_TRAIN", "SM_CHANNEL_VALIDATION", "SM_CHANNELS",
        "SM_HPS", "SM_HP_MAX_DEPTH", "SM_HP_ETA", "SM_HP_TREE_METHOD", "SM_CURRENT_HOST", "SM_HOSTS",
        "SM_NUM_CPUS", "SM_USER_ENTRY_POINT", "SM_MODULE_NAME", "SM_USER_ARGS")} == {
        "SM_MODEL_DIR": str(tmp_path / "opt_ml" / "model"),
        "SM_OUTPUT_DATA_DIR": str(tmp_path / "opt_ml" / "output" / "data"),
        "SM_CHANNEL_TRAIN": str(tmp_path / "train"),
        "SM_CHANNEL_VALIDATION": str(tmp_path / "validation"),
        "SM_CHANNELS": '["train","validation"]',
        "SM_HPS": '{"eta":0.1,"max_depth":3,"note":"plain","tree_method":"hist"}',
        "SM_HP_MAX_DEPTH": "3",
        "SM_HP_ETA": "0.1",
        "SM_HP_TREE_METHOD": "hist",
        "SM_CURRENT_HOST": "algo-1",
        "SM_HOSTS": '["algo-1"]',
        "SM_NUM_CPUS": "2",
        "SM_USER_ENTRY_POINT": "train.py",
        "SM_MODULE_NAME": "train",
        "SM_USER_ARGS": '["--eta","0.1","--max_depth","3","--note","plain","--tree_method","hist"]',
    }
