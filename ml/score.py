"""Score the inference set: a SageMaker Processing script for the XGBoost 1.7-1 container.

Contract (the processing job's inputs and outputs, as container folders):
- --model_dir (/opt/ml/processing/model): `xgboost-model`, or the training job's
  `model.tar.gz` that holds it.
- --input_dir (/opt/ml/processing/input/data): CSV files (`*.csv`, `*.csv.gz`, in subfolders
  too; empty files and names starting with `_` or `.` skipped), no header; each row is the
  id columns named by --id_columns, then the model's features in training order.
- --output_dir (/opt/ml/processing/output): one CSV per input file, same relative name
  (ending `.csv`), with a header: the id columns, `probability`, `model_version`; one row
  per input row, in input order.

The output is a function of the model and the input files alone, so scoring again with the
same model version writes the same bytes. Choosing each order's basket from these
probabilities is not done here (see instacart_lake.ml.baskets).

Runs alone inside the container: only the standard library, numpy, pandas and xgboost.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import sys
import tarfile
import tempfile
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

LOGGER = logging.getLogger("score")
MODEL_FILE_NAME = "xgboost-model"
MODEL_ARCHIVE_NAME = "model.tar.gz"
CSV_SUFFIXES = (".csv", ".csv.gz")
CHUNK_ROWS = 500_000


class ScoringInputError(Exception):
    """The model or the inference files break the scoring contract."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Score inference CSV files with the XGBoost reorder model.")
    parser.add_argument("--model_dir", default="/opt/ml/processing/model")
    parser.add_argument("--input_dir", default="/opt/ml/processing/input/data")
    parser.add_argument("--output_dir", default="/opt/ml/processing/output")
    parser.add_argument("--id_columns", default="order_id,product_id",
                        help="comma-separated names of the leading id columns of each input row")
    parser.add_argument("--model_version", required=True)
    return parser.parse_args(argv)


def load_model(model_dir: str | os.PathLike) -> xgb.Booster:
    """The booster in `model_dir`: its `xgboost-model` file, or the one inside `model.tar.gz`."""
    folder = Path(model_dir)
    model_file = folder / MODEL_FILE_NAME
    archive = folder / MODEL_ARCHIVE_NAME
    booster = xgb.Booster()
    if model_file.is_file():
        booster.load_model(str(model_file))
        return booster
    if not archive.is_file():
        raise ScoringInputError(f"{folder}: neither {MODEL_FILE_NAME} nor {MODEL_ARCHIVE_NAME} found")
    with tarfile.open(archive, "r:gz") as tar:
        try:
            member = tar.getmember(MODEL_FILE_NAME)
        except KeyError as error:
            raise ScoringInputError(f"{archive}: no {MODEL_FILE_NAME} inside") from error
        model_bytes = tar.extractfile(member).read()
    with tempfile.TemporaryDirectory() as scratch:
        extracted = Path(scratch, MODEL_FILE_NAME)
        extracted.write_bytes(model_bytes)
        booster.load_model(str(extracted))
    return booster


def inference_files(input_dir: str | os.PathLike) -> list[Path]:
    root = Path(input_dir)
    if not root.is_dir():
        raise ScoringInputError(f"{root}: input folder not found")
    return sorted(
        path for path in root.rglob("*")
        if path.is_file()
        and path.name.endswith(CSV_SUFFIXES)
        and not path.name.startswith(("_", "."))
        and path.stat().st_size > 0
    )


def output_name(input_file: Path, input_dir: Path) -> Path:
    relative = input_file.relative_to(input_dir)
    stem = relative.name.removesuffix(".gz").removesuffix(".csv")
    return relative.with_name(f"{stem}.csv")


def score_chunk(booster: xgb.Booster, chunk: pd.DataFrame, id_columns: list[str],
                model_version: str, source: Path) -> pd.DataFrame:
    expected_width = len(id_columns) + booster.num_features()
    if chunk.shape[1] != expected_width:
        raise ScoringInputError(
            f"{source}: rows have {chunk.shape[1]} columns, expected {expected_width} "
            f"({len(id_columns)} ids + {booster.num_features()} features of the model)")
    ids = chunk.iloc[:, : len(id_columns)]
    if ids.isna().any().any():
        raise ScoringInputError(f"{source}: an id column ({', '.join(id_columns)}) is empty")
    try:
        id_values = ids.to_numpy(dtype=np.int64)
    except ValueError as error:
        raise ScoringInputError(f"{source}: an id is not an integer ({error})") from error
    try:
        features = chunk.iloc[:, len(id_columns):].to_numpy(dtype=np.float64)
    except ValueError as error:
        raise ScoringInputError(f"{source}: a feature is not a number ({error})") from error
    probabilities = booster.predict(xgb.DMatrix(features, missing=np.nan))
    scored = pd.DataFrame(id_values, columns=id_columns)
    scored["probability"] = probabilities.astype(np.float64)
    scored["model_version"] = model_version
    return scored


def score_file(booster: xgb.Booster, source: Path, target: Path, id_columns: list[str],
               model_version: str) -> int:
    """Score one input file into `target` (written beside, then renamed); the row count."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    rows = 0
    try:
        with partial.open("w", newline="") as handle:
            for chunk in pd.read_csv(source, header=None, chunksize=CHUNK_ROWS):
                scored = score_chunk(booster, chunk, id_columns, model_version, source)
                scored.to_csv(handle, header=rows == 0, index=False, float_format="%.9g")
                rows += len(scored)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    return rows


def score(args: argparse.Namespace) -> int:
    """Score every inference file; the number of rows scored. The files are scored side by
    side, one process per core (parsing and formatting the CSV is most of the time), each
    predicting with its share of the cores; each writes the bytes one process would."""
    booster = load_model(args.model_dir)
    id_columns = [name.strip() for name in args.id_columns.split(",") if name.strip()]
    if not id_columns:
        raise ScoringInputError("--id_columns names no column")
    input_dir = Path(args.input_dir)
    files = inference_files(input_dir)
    if not files:
        raise ScoringInputError(f"{input_dir}: no CSV file with rows to score")
    targets = [Path(args.output_dir) / output_name(source, input_dir) for source in files]
    cores = os.cpu_count() or 1
    workers = min(len(files), cores)
    model = bytes(booster.save_raw())
    total = 0
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        counts = pool.map(score_file_with_model, repeat(model), repeat(max(1, cores // workers)), files, targets,
                          repeat(id_columns), repeat(args.model_version))
        for source, target, rows in zip(files, targets, counts):
            LOGGER.info("scored %d rows of %s into %s", rows, source, target)
            total += rows
    LOGGER.info("scored_rows=%d model_version=%s", total, args.model_version)
    return total


def score_file_with_model(model: bytes, threads: int, source: Path, target: Path, id_columns: list[str],
                          model_version: str) -> int:
    """score_file in a worker process, with the booster saved as `model` predicting on `threads` threads.
    (A worker is spawned, not forked: XGBoost's OpenMP threads do not survive a fork.)"""
    booster = xgb.Booster(model_file=bytearray(model))
    booster.set_param({"nthread": threads})
    return score_file(booster, source, target, id_columns, model_version)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse_args(argv)
    try:
        score(args)
    except ScoringInputError as error:
        LOGGER.error("%s", error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
