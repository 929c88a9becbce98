"""Train the reorder model: SageMaker script mode for the XGBoost 1.7-1 framework container.

Contract (what the container, or the local runner, provides):
- SM_CHANNEL_TRAIN, SM_CHANNEL_VALIDATION: folders of CSV files (`*.csv`, `*.csv.gz`, in
  subfolders too; empty files and names starting with `_` or `.` are skipped), no header,
  the 0/1 label in the first column and the features after it. A missing feature is an
  empty field or NaN.
- Hyperparameters: command-line flags (`--max_depth 6`, as the container passes them);
  each default comes from its SM_HP_<NAME> variable, then from the value below.
- SM_MODEL_DIR: receives `xgboost-model` (XGBoost's native format, the file name the
  container's default inference loads), cut at the best iteration of early stopping.
- SM_OUTPUT_DATA_DIR: receives `metrics.json` (validation AUC and log loss at the best
  iteration, best iteration, rows, features, training seconds) and `hyperparameters.json`
  (the effective value of every hyperparameter, defaults included).
- SM_OUTPUT_DIR: on bad input, `failure` holds the one-line reason (SageMaker shows it as
  the job's FailureReason) and the script exits with status 1.

Runs alone inside the container: only the standard library, numpy, pandas, scikit-learn
and xgboost.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import log_loss, roc_auc_score

LOGGER = logging.getLogger("train")
MODEL_FILE_NAME = "xgboost-model"
METRICS_FILE_NAME = "metrics.json"
HYPERPARAMETERS_FILE_NAME = "hyperparameters.json"
CSV_SUFFIXES = (".csv", ".csv.gz")


class InputDataError(Exception):
    """The training data breaks the channel contract."""


def _hp_default(name: str, fallback: str) -> str:
    """The hyperparameter's SM_HP_<NAME> value, else `fallback` (argparse converts either)."""
    return os.environ.get(f"SM_HP_{name.upper()}", fallback)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train the XGBoost reorder model (SageMaker script mode).")
    parser.add_argument("--num_round", type=int, default=_hp_default("num_round", "500"))
    parser.add_argument("--early_stopping_rounds", type=int, default=_hp_default("early_stopping_rounds", "20"))
    # eta 0.2, not 0.1: at full scale training takes half the time for an expected-F1 mean
    # 0.0004 lower (benchmarks/training_speed.py).
    parser.add_argument("--eta", type=float, default=_hp_default("eta", "0.2"))
    parser.add_argument("--max_depth", type=int, default=_hp_default("max_depth", "6"))
    parser.add_argument("--min_child_weight", type=float, default=_hp_default("min_child_weight", "10"))
    parser.add_argument("--subsample", type=float, default=_hp_default("subsample", "0.8"))
    parser.add_argument("--colsample_bytree", type=float, default=_hp_default("colsample_bytree", "0.8"))
    parser.add_argument("--gamma", type=float, default=_hp_default("gamma", "0"))
    parser.add_argument("--lambda", dest="reg_lambda", type=float, default=_hp_default("lambda", "1"))
    parser.add_argument("--alpha", type=float, default=_hp_default("alpha", "0"))
    parser.add_argument("--tree_method", default=_hp_default("tree_method", "hist"))
    parser.add_argument("--seed", type=int, default=_hp_default("seed", "0"))
    parser.add_argument("--nthread", type=int, default=os.environ.get("SM_NUM_CPUS", "1"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
    parser.add_argument("--validation", default=os.environ.get("SM_CHANNEL_VALIDATION"))
    parser.add_argument("--model_dir", default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--output_data_dir", default=os.environ.get("SM_OUTPUT_DATA_DIR"))
    parser.add_argument("--output_dir", default=os.environ.get("SM_OUTPUT_DIR"))
    args = parser.parse_args(argv)
    for folder in ("train", "validation", "model_dir", "output_data_dir"):
        if getattr(args, folder) is None:
            parser.error(f"--{folder} is required (or its SM_* environment variable)")
    return args


def channel_files(folder: str | os.PathLike) -> list[Path]:
    """The non-empty CSV files of a channel folder, in name order."""
    root = Path(folder)
    if not root.is_dir():
        raise InputDataError(f"{root}: channel folder not found")
    files = sorted(
        path for path in root.rglob("*")
        if path.is_file()
        and path.name.endswith(CSV_SUFFIXES)
        and not path.name.startswith(("_", "."))
        and path.stat().st_size > 0
    )
    if not files:
        raise InputDataError(f"{root}: no CSV file with rows in the channel")
    return files


def read_channel_file(path: Path) -> pd.DataFrame:
    """One CSV file of a channel: numbers only, a 0/1 label in the first column. Values are
    read as float32, the precision XGBoost keeps anyway, to halve the memory."""
    try:
        frame = pd.read_csv(path, header=None, dtype=np.float32)
    except ValueError as error:
        raise InputDataError(f"{path}: not a numeric CSV without header ({error})") from error
    if frame.shape[1] < 2:
        raise InputDataError(f"{path}: rows need a label and at least one feature")
    is_binary = frame.iloc[:, 0].isin((0.0, 1.0)).to_numpy()
    if not is_binary.all():
        first_bad = int(np.flatnonzero(~is_binary)[0])
        raise InputDataError(
            f"{path}:{first_bad + 1}: label is {float(frame.iloc[first_bad, 0])}, expected 0 or 1")
    return frame


def read_channel(folder: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(labels, features) of every CSV file of a channel folder, the files parsed side by side
    in one process per core (parsing is most of the time before training: 17 s of the 6.7 M
    training rows at full scale on one core, 11 s on two)."""
    files = channel_files(folder)
    with ProcessPoolExecutor(max_workers=min(len(files), os.cpu_count() or 1)) as pool:
        frames = dict(zip(files, pool.map(read_channel_file, files)))
    widths = {frame.shape[1] for frame in frames.values()}
    if len(widths) > 1:
        detail = ", ".join(f"{path.name}: {frame.shape[1]}" for path, frame in frames.items())
        raise InputDataError(f"{folder}: files have different column counts ({detail})")
    data = pd.concat(frames.values(), ignore_index=True)
    return data.iloc[:, 0].to_numpy(), data.iloc[:, 1:].to_numpy()


def effective_hyperparameters(args: argparse.Namespace) -> dict:
    """Every hyperparameter by its SageMaker name, as this run used it."""
    return {
        "num_round": args.num_round,
        "early_stopping_rounds": args.early_stopping_rounds,
        "eta": args.eta,
        "max_depth": args.max_depth,
        "min_child_weight": args.min_child_weight,
        "subsample": args.subsample,
        "colsample_bytree": args.colsample_bytree,
        "gamma": args.gamma,
        "lambda": args.reg_lambda,
        "alpha": args.alpha,
        "tree_method": args.tree_method,
        "seed": args.seed,
    }


def booster_params(args: argparse.Namespace) -> dict:
    """XGBoost's parameters. Each round evaluates the validation log loss alone, the metric
    early stopping watches: a metric per round costs a pass over its set (AUC a sort), and
    the model does not depend on it. AUC is measured once, on the model kept."""
    boosting_rounds = ("num_round", "early_stopping_rounds")
    model_params = {
        name: value for name, value in effective_hyperparameters(args).items() if name not in boosting_rounds
    }
    return {
        "objective": "binary:logistic",
        "eval_metric": "logloss",
        **model_params,
        "nthread": args.nthread,
    }


def train(args: argparse.Namespace) -> dict:
    """Train with early stopping on the validation log loss, write the model and the
    metrics, and return the metrics."""
    train_labels, train_features = read_channel(args.train)
    validation_labels, validation_features = read_channel(args.validation)
    if train_features.shape[1] != validation_features.shape[1]:
        raise InputDataError(
            f"train has {train_features.shape[1]} features, validation {validation_features.shape[1]}")
    if len(np.unique(validation_labels)) < 2:
        raise InputDataError(f"{args.validation}: validation labels need both classes for AUC")
    dtrain = xgb.DMatrix(train_features, label=train_labels, missing=np.nan)
    dvalidation = xgb.DMatrix(validation_features, label=validation_labels, missing=np.nan)

    started = time.perf_counter()
    booster = xgb.train(
        booster_params(args), dtrain, num_boost_round=args.num_round,
        evals=[(dvalidation, "validation")],
        early_stopping_rounds=args.early_stopping_rounds, verbose_eval=False)
    training_seconds = time.perf_counter() - started

    best_iteration = booster.best_iteration
    model = booster[: best_iteration + 1]
    probabilities = model.predict(dvalidation)
    metrics = {
        "validation_auc": float(roc_auc_score(validation_labels, probabilities)),
        "validation_logloss": float(log_loss(validation_labels, probabilities, labels=[0, 1])),
        "best_iteration": int(best_iteration),
        "train_rows": int(train_features.shape[0]),
        "validation_rows": int(validation_features.shape[0]),
        "feature_count": int(train_features.shape[1]),
        "training_seconds": round(training_seconds, 3),
        "xgboost_version": xgb.__version__,
    }
    Path(args.model_dir).mkdir(parents=True, exist_ok=True)
    model.save_model(os.path.join(args.model_dir, MODEL_FILE_NAME))
    Path(args.output_data_dir).mkdir(parents=True, exist_ok=True)
    Path(args.output_data_dir, METRICS_FILE_NAME).write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    Path(args.output_data_dir, HYPERPARAMETERS_FILE_NAME).write_text(
        json.dumps(effective_hyperparameters(args), indent=2, sort_keys=True) + "\n")
    for name in ("validation_auc", "validation_logloss", "best_iteration"):
        LOGGER.info("%s=%s", name, metrics[name])
    return metrics


def write_failure(output_dir: str | None, message: str) -> None:
    """SageMaker reports the content of <output dir>/failure as the job's FailureReason."""
    if output_dir:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        Path(output_dir, "failure").write_text(message + "\n")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse_args(argv)
    try:
        train(args)
    except InputDataError as error:
        LOGGER.error("%s", error)
        write_failure(args.output_dir, str(error))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
