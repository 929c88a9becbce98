"""The SageMaker script contracts of ml/train.py and ml/score.py, run as the containers run
them: a subprocess whose only configuration is the SM_* environment and the flags."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import xgboost as xgb
from ml_synthetic import FEATURE_COUNT, write_inference_set, write_labelled_set

from instacart_lake.ml.scripts import ML_SCRIPTS_DIR

TRAIN_SCRIPT = ML_SCRIPTS_DIR / "train.py"
SCORE_SCRIPT = ML_SCRIPTS_DIR / "score.py"


def run_script(script: Path, environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), *arguments], env=environment,
                          capture_output=True, text=True, check=False, timeout=300)


def script_mode_environment(root: Path) -> dict[str, str]:
    return {
        "SM_CHANNEL_TRAIN": str(root / "input" / "data" / "train"),
        "SM_CHANNEL_VALIDATION": str(root / "input" / "data" / "validation"),
        "SM_MODEL_DIR": str(root / "model"),
        "SM_OUTPUT_DATA_DIR": str(root / "output" / "data"),
        "SM_OUTPUT_DIR": str(root / "output"),
        "SM_NUM_CPUS": "1",
        "SM_HP_NUM_ROUND": "30",
        "SM_HP_EARLY_STOPPING_ROUNDS": "5",
        "SM_HP_MAX_DEPTH": "3",
    }


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """/opt/ml of one training run of train.py on the synthetic sets."""
    root = tmp_path_factory.mktemp("opt_ml")
    write_labelled_set(root / "input" / "data" / "train", (250, 150), seed=1)
    write_labelled_set(root / "input" / "data" / "validation", (200,), seed=2)
    completed = run_script(TRAIN_SCRIPT, script_mode_environment(root))
    assert completed.returncode == 0, completed.stderr
    return root


def test_train_writes_the_model_and_metrics_from_sm_variables_alone(trained):
    booster = xgb.Booster()
    booster.load_model(str(trained / "model" / "xgboost-model"))
    metrics = json.loads((trained / "output" / "data" / "metrics.json").read_text())
    hyperparameters = json.loads((trained / "output" / "data" / "hyperparameters.json").read_text())

    assert booster.num_features() == FEATURE_COUNT
    assert metrics["validation_auc"] > 0.95
    assert 0 < metrics["validation_logloss"] < 0.4
    assert 0 <= metrics["best_iteration"] < 30
    assert booster.num_boosted_rounds() == metrics["best_iteration"] + 1
    assert (metrics["train_rows"], metrics["validation_rows"], metrics["feature_count"]) == (400, 200, 4)
    assert metrics["training_seconds"] >= 0
    assert (hyperparameters["num_round"], hyperparameters["early_stopping_rounds"],
            hyperparameters["max_depth"]) == (30, 5, 3)


def test_train_flags_override_sm_hp_variables(tmp_path, trained):
    environment = script_mode_environment(trained)
    environment["SM_MODEL_DIR"] = str(tmp_path / "model")
    environment["SM_OUTPUT_DATA_DIR"] = str(tmp_path / "data")

    completed = run_script(TRAIN_SCRIPT, environment, "--max_depth", "2", "--eta", "0.3")

    assert completed.returncode == 0, completed.stderr
    hyperparameters = json.loads((tmp_path / "data" / "hyperparameters.json").read_text())
    assert (hyperparameters["max_depth"], hyperparameters["eta"], hyperparameters["num_round"]) == (2, 0.3, 30)


def test_train_rejects_a_label_that_is_not_0_or_1_naming_file_and_line(tmp_path):
    write_labelled_set(tmp_path / "input" / "data" / "train", (20,), seed=1)
    write_labelled_set(tmp_path / "input" / "data" / "validation", (20,), seed=2)
    bad_file = tmp_path / "input" / "data" / "train" / "part-00000.csv"
    lines = bad_file.read_text().splitlines()
    lines[2] = "2" + lines[2][1:]
    bad_file.write_text("\n".join(lines) + "\n")

    completed = run_script(TRAIN_SCRIPT, script_mode_environment(tmp_path))

    assert completed.returncode == 1
    failure = (tmp_path / "output" / "failure").read_text()
    assert f"{bad_file}:3: label is 2.0, expected 0 or 1" in failure
    assert "Traceback" not in completed.stderr
    assert not (tmp_path / "model" / "xgboost-model").exists()


def read_scores(folder: Path) -> list[dict[str, str]]:
    rows = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def test_score_writes_one_probability_per_input_row_with_ids_kept(tmp_path, trained):
    written = write_inference_set(tmp_path / "inference")

    completed = run_script(SCORE_SCRIPT, {}, "--model_dir", str(trained / "model"),
                           "--input_dir", str(tmp_path / "inference"), "--output_dir", str(tmp_path / "out"),
                           "--model_version", "reorder-test-1")

    assert completed.returncode == 0, completed.stderr
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["part-00000.csv", "part-00001.csv"]
    scores = read_scores(tmp_path / "out")
    assert list(scores[0]) == ["order_id", "product_id", "probability", "model_version"]
    assert [(int(row["order_id"]), int(row["product_id"])) for row in scores] == [
        (order_id, product_id) for order_id, product_id, _ in written]
    assert {row["model_version"] for row in scores} == {"reorder-test-1"}
    probabilities = [float(row["probability"]) for row in scores]
    assert all(0.0 < probability < 1.0 for probability in probabilities)
    first_features = [float(fields[0]) for _, _, fields in written]
    clear_ones = [p for p, x in zip(probabilities, first_features) if x > 0.8]
    clear_zeros = [p for p, x in zip(probabilities, first_features) if x < 0.2]
    assert clear_ones and clear_zeros
    assert min(clear_ones) > 0.7 and max(clear_zeros) < 0.3


def test_score_reads_the_model_from_the_training_job_tarball(tmp_path, trained):
    write_inference_set(tmp_path / "inference")
    (tmp_path / "model").mkdir()
    with tarfile.open(tmp_path / "model" / "model.tar.gz", "w:gz") as archive:
        archive.add(trained / "model" / "xgboost-model", arcname="xgboost-model")
    direct = tmp_path / "direct"
    from_tarball = tmp_path / "from_tarball"

    for model_dir, output_dir in ((trained / "model", direct), (tmp_path / "model", from_tarball)):
        completed = run_script(SCORE_SCRIPT, {}, "--model_dir", str(model_dir),
                               "--input_dir", str(tmp_path / "inference"), "--output_dir", str(output_dir),
                               "--model_version", "v1")
        assert completed.returncode == 0, completed.stderr

    assert (from_tarball / "part-00000.csv").read_bytes() == (direct / "part-00000.csv").read_bytes()


def test_score_rejects_rows_whose_width_does_not_match_the_model(tmp_path, trained):
    (tmp_path / "inference").mkdir()
    narrow = tmp_path / "inference" / "part-00000.csv"
    narrow.write_text("1,2,0.5,0.5,0.5\n")

    completed = run_script(SCORE_SCRIPT, {}, "--model_dir", str(trained / "model"),
                           "--input_dir", str(tmp_path / "inference"), "--output_dir", str(tmp_path / "out"),
                           "--model_version", "v1")

    assert completed.returncode == 1
    assert f"{narrow}: rows have 5 columns, expected 6 (2 ids + 4 features of the model)" in completed.stderr
    assert list((tmp_path / "out").iterdir()) == []
