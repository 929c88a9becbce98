"""The local runner end to end: the stage's SageMaker requests run ml/train.py and
ml/score.py in subprocesses on a tiny dataset in a local lake's ml zone."""

from __future__ import annotations

import csv
import errno
import json
import os
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from ml_synthetic import FEATURE_COUNT, write_labelled_set, write_ml_sets

from instacart_lake.locations import uri_to_path
from instacart_lake.ml.artifacts import pack_tar_gz
from instacart_lake.ml.errors import JobFailed, MLStageError
from instacart_lake.ml.job_requests import build_scoring_request, scored_set_uri
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


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_stage_trains_records_the_card_and_scores_both_sets_then_rescoring_is_identical(lake):
    scored_sets = write_ml_sets(ml_zone(lake) / "sets")
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
            card.hyperparameters["eta"]) == (30, 3, 0.2)

    version_folder = ml_zone(lake) / "scores" / "model_version=reorder-20250301-120000-local1"
    assert {name: Path(uri_to_path(uri)) for name, uri in result.score_uris.items()} == {
        "inference": version_folder / "inference", "validation": version_folder / "validation"}
    for set_name, folder_name in (("inference", "inference"), ("validation", "validation_ids")):
        scores = read_score_files(version_folder / set_name)
        assert [(int(row["order_id"]), int(row["product_id"])) for row in scores] == [
            (order_id, product_id) for order_id, product_id, _ in scored_sets[folder_name]]
        assert {row["model_version"] for row in scores} == {"reorder-20250301-120000-local1"}
    first_run = tree_bytes(version_folder)
    assert sorted(first_run) == ["inference/part-00000.csv", "inference/part-00001.csv",
                                 "validation/part-00000.csv", "validation/part-00001.csv"]

    scoring = score_model_version(settings, jobs, card)

    assert scoring.job_name != result.scoring_job_name
    assert scoring.set_uris == result.score_uris
    assert tree_bytes(version_folder) == first_run


def write_model_archive(path: Path) -> xgb.Booster:
    """A model.tar.gz of a small booster whose probability follows the first of 4 features."""
    rng = np.random.default_rng(7)
    features = rng.random((300, FEATURE_COUNT))
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2, "nthread": 1},
                        xgb.DMatrix(features, label=(features[:, 0] > 0.5).astype(int)), num_boost_round=20)
    model_file = path.parent / "xgboost-model"
    path.parent.mkdir(parents=True)
    booster.save_model(str(model_file))
    path.write_bytes(pack_tar_gz({"xgboost-model": model_file}))
    return booster


def write_csv(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def expected_scores(booster: xgb.Booster, rows: list[tuple[int, int, list[float]]], version: str) -> list[dict]:
    probabilities = booster.predict(xgb.DMatrix(np.array([features for _, _, features in rows]), missing=np.nan))
    return [{"order_id": str(order_id), "product_id": str(product_id), "probability": f"{float(probability):.9g}",
             "model_version": version} for (order_id, product_id, _), probability in zip(rows, probabilities)]


def test_one_processing_job_scores_each_set_into_its_own_folder_and_rescoring_is_identical(lake):
    zone = ml_zone(lake)
    version = "reorder-explicit"
    booster = write_model_archive(zone / "models" / f"{version}-train" / "output" / "model.tar.gz")
    write_csv(zone / "sets" / "inference" / "part-00000.csv", "1001,11,0.95,0.5,0.5,0.5\n1001,12,0.05,,0.5,0.5\n")
    write_csv(zone / "sets" / "inference" / "part-00001.csv", "1002,13,0.9,0.1,0.2,0.3\n")
    write_csv(zone / "sets" / "inference" / "_SUCCESS", "")
    write_csv(zone / "sets" / "validation_ids" / "part-00000.csv", "2001,21,0.02,0.4,0.4,0.4\n2001,22,0.97,0.6,,0.6\n")
    settings = local_stage_settings(lake)
    model_uri = (zone / "models" / f"{version}-train" / "output" / "model.tar.gz").as_uri()
    version_folder = zone / "scores" / f"model_version={version}"

    LocalJobs(num_cpus=1).run_processing(build_scoring_request(settings, version, model_uri, f"{version}-score-1"))

    assert {name: Path(uri_to_path(scored_set_uri(settings, version, name))) for name in settings.scored_sets} == {
        "inference": version_folder / "inference", "validation": version_folder / "validation"}
    first_run = tree_bytes(version_folder)
    assert sorted(first_run) == ["inference/part-00000.csv", "inference/part-00001.csv", "validation/part-00000.csv"]
    nan = float("nan")
    assert read_score_files(version_folder / "inference") == expected_scores(booster, [
        (1001, 11, [0.95, 0.5, 0.5, 0.5]), (1001, 12, [0.05, nan, 0.5, 0.5]), (1002, 13, [0.9, 0.1, 0.2, 0.3])],
        version)
    assert read_score_files(version_folder / "validation") == expected_scores(booster, [
        (2001, 21, [0.02, 0.4, 0.4, 0.4]), (2001, 22, [0.97, 0.6, nan, 0.6])], version)
    probabilities = [float(row["probability"]) for row in read_score_files(version_folder / "validation")]
    assert probabilities[0] < 0.5 < probabilities[1]

    LocalJobs(num_cpus=1).run_processing(build_scoring_request(settings, version, model_uri, f"{version}-score-2"))

    assert tree_bytes(version_folder) == first_run


LIST_INPUTS_SCRIPT = """
import json, os, sys
from pathlib import Path

arguments = dict(zip(sys.argv[1::2], sys.argv[2::2]))
root = Path(arguments["--input_dir"])
files = {path.relative_to(root).as_posix(): [path.read_text(), os.stat(path).st_nlink]
         for path in sorted(root.rglob("*")) if path.is_file()}
Path(arguments["--output_dir"], "listing.json").write_text(json.dumps({"files": files, "label": arguments["--label"]}))
"""


@pytest.mark.parametrize("link_fails", [False, True], ids=["hard links", "copies when linking fails"])
def test_processing_inputs_nested_under_the_input_dir_argument_are_all_visible(tmp_path, monkeypatch, link_fails):
    write_csv(tmp_path / "code" / "list_inputs.py", LIST_INPUTS_SCRIPT)
    write_csv(tmp_path / "first" / "a.csv", "1\n")
    write_csv(tmp_path / "first" / "sub" / "b.csv", "2\n")
    write_csv(tmp_path / "model.bin", "m")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    if link_fails:
        def refuse_link(source, target):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        monkeypatch.setattr(os, "link", refuse_link)

    def s3_input(name: str, path: Path, local_path: str) -> dict:
        return {"InputName": name, "S3Input": {"S3Uri": path.as_uri(), "LocalPath": local_path}}

    LocalJobs().run_processing({
        "ProcessingJobName": "list-inputs",
        "AppSpecification": {
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/list_inputs.py"],
            "ContainerArguments": ["--input_dir", "/opt/ml/processing/input/data",
                                   "--output_dir", "/opt/ml/processing/output", "--label", "/srv/opt/ml/x"],
        },
        "ProcessingInputs": [
            s3_input("code", tmp_path / "code", "/opt/ml/processing/input/code"),
            s3_input("first", tmp_path / "first", "/opt/ml/processing/input/data/first"),
            s3_input("second", tmp_path / "model.bin", "/opt/ml/processing/input/data/second/"),
        ],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "listing", "S3Output": {
            "S3Uri": f"{(tmp_path / 'out').as_uri()}/", "LocalPath": "/opt/ml/processing/output"}}]},
        "StoppingCondition": {"MaxRuntimeInSeconds": 60},
    })

    links = 1 if link_fails else 2
    assert json.loads((tmp_path / "out" / "listing.json").read_text()) == {
        "files": {"first/a.csv": ["1\n", links], "first/sub/b.csv": ["2\n", links], "second/model.bin": ["m", links]},
        "label": "/srv/opt/ml/x",
    }
    assert (tmp_path / "first" / "sub" / "b.csv").stat().st_nlink == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["code", "first", "model.bin", "out"]


@pytest.mark.parametrize("local_paths, problem", [
    (["/opt/ml/processing/input/data", "/opt/ml/processing/input/data/first"],
     "LocalPaths /opt/ml/processing/input/data and /opt/ml/processing/input/data/first overlap"),
    (["/opt/ml/processing/input/data/a", "/opt/ml/processing/input/data/a/"],
     "LocalPaths /opt/ml/processing/input/data/a and /opt/ml/processing/input/data/a overlap"),
    (["/tmp/data"], "LocalPath /tmp/data is not a folder under /opt/ml/"),
])
def test_processing_container_paths_must_be_distinct_folders_under_opt_ml(tmp_path, local_paths, problem):
    request = {
        "ProcessingJobName": "bad-paths",
        "AppSpecification": {"ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/x.py"]},
        "ProcessingInputs": [{"InputName": f"in{index}", "S3Input": {"S3Uri": tmp_path.as_uri(), "LocalPath": path}}
                             for index, path in enumerate(local_paths)],
        "StoppingCondition": {"MaxRuntimeInSeconds": 60},
    }

    with pytest.raises(MLStageError, match=f"^processing job bad-paths: {problem}$"):
        LocalJobs().run_processing(request)


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
