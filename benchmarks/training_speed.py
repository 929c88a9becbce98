"""What the training job's hyperparameters cost in seconds and in the task's metric.

Trains on the lake's train channel with ml/train.py's parameters (early stopping on the
validation log loss, as the training job does), once per variant: the script's defaults
first, then each variant's changes. Each model, cut at its best iteration, scores the
validation candidates (the `validation_ids` set: keys and features), and the scores meet the
labels of the `ml_candidates` table; the expected-F1 baskets give the mean F1 the gold
evaluation reports (instacart_lake.ml.evaluation). A run is acceptable when its expected-F1
mean is at most 0.002 below the reference run's (--reference: one of the variants, else the
defaults).

    python benchmarks/training_speed.py --lake-root /tmp/ml_bench_lake_full \\
        --variant eta=0.1 --variant eta=0.3 --reference eta=0.1

Writes benchmarks/results/training_speed_<label>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import xgboost as xgb
from deltalake import DeltaTable
from training_channels import ROOT, load_training_channels, train

from instacart_lake.jobs.curated_to_ml import CANDIDATES_TABLE, SET_COLUMN
from instacart_lake.locations import uri_to_path
from instacart_lake.ml.evaluation import evaluate_validation
from instacart_lake.transforms.ml_sets import VALIDATION

RESULTS = ROOT / "benchmarks" / "results"
LARGEST_F1_DROP = 0.002


def validation_candidates(locations) -> tuple[pd.DataFrame, np.ndarray]:
    """The validation candidates' keys and labels, and their features in the same row order."""
    keyed = pd.concat([pd.read_csv(path, header=None, dtype=np.float64)
                       for path in train.channel_files(uri_to_path(locations.ml_set_uri("validation_ids")))],
                      ignore_index=True)
    keys = pd.DataFrame({"order_id": keyed[0].astype(np.int64), "product_id": keyed[1].astype(np.int64)})
    candidates = DeltaTable(uri_to_path(locations.table_uri("ml", CANDIDATES_TABLE))).to_pyarrow_table(
        columns=["order_id", "product_id", "label", SET_COLUMN])
    with duckdb.connect() as connection:
        connection.register("candidates", candidates)
        connection.register("wanted", keys)
        labelled = connection.execute(
            f"SELECT w.order_id, w.product_id, c.label FROM wanted w JOIN candidates c "
            f"USING (order_id, product_id) WHERE c.{SET_COLUMN} = '{VALIDATION}'").df()
    if len(labelled) != len(keys):
        raise SystemExit(f"{len(keys)} validation rows, {len(labelled)} of them labelled")
    return keys.merge(labelled, on=["order_id", "product_id"], how="left"), keyed.iloc[:, 2:].to_numpy()


def parse_variant(text: str) -> dict:
    """`eta=0.2,seed=1` as {"eta": 0.2, "seed": 1}: integers, then numbers, else text."""
    changes = {}
    for assignment in text.split(","):
        name, _, value = assignment.partition("=")
        for kind in (int, float, str):
            try:
                changes[name.strip()] = kind(value.strip())
                break
            except ValueError:
                continue
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake-root", type=Path, default=Path("/tmp/ml_bench_lake_full"))
    parser.add_argument("--label", default="full")
    parser.add_argument("--variant", action="append", default=[],
                        help="comma-separated changes to the defaults, e.g. eta=0.2,max_bin=128")
    parser.add_argument("--reference", default="defaults", help="the run the others are compared with")
    options = parser.parse_args(argv)
    if options.reference not in ("defaults", *options.variant):
        parser.error(f"--reference {options.reference} is not one of the variants")
    channels = load_training_channels(options.lake_root)
    args, dtrain, dvalidation = channels.args, channels.dtrain, channels.dvalidation
    candidates, candidate_features = validation_candidates(channels.locations)
    dcandidates = xgb.DMatrix(candidate_features, missing=np.nan)
    no_reorders = pd.DataFrame({"order_id": pd.Series(dtype="int64"), "product_id": pd.Series(dtype="int64")})

    runs = {}
    for variant in ["defaults", *options.variant]:
        changes = {} if variant == "defaults" else parse_variant(variant)
        params = {**train.booster_params(args), **changes}
        started = time.perf_counter()
        booster = xgb.train(params, dtrain, num_boost_round=args.num_round, evals=[(dvalidation, "validation")],
                            early_stopping_rounds=args.early_stopping_rounds, verbose_eval=False)
        seconds = time.perf_counter() - started
        model = booster[: booster.best_iteration + 1]
        scored = candidates.assign(probability=model.predict(dcandidates).astype(np.float64))
        evaluation = evaluate_validation(scored, no_reorders, None)
        runs[variant] = {"params": params, "seconds": round(seconds, 1), "best_iteration": int(booster.best_iteration),
                         "log_loss": evaluation.log_loss, "roc_auc": evaluation.roc_auc,
                         "f1_expected_f1": evaluation.f1_expected_f1}
        print(json.dumps({variant: runs[variant]}), flush=True)
    reference = runs[options.reference]["f1_expected_f1"]
    for run in runs.values():
        run["f1_drop"] = round(reference - run["f1_expected_f1"], 5)
        run["acceptable"] = run["f1_drop"] <= LARGEST_F1_DROP
    result = {"command": " ".join(["python", "benchmarks/training_speed.py", *(argv or sys.argv[1:])]),
              "reference": options.reference, "lake_root": str(options.lake_root), "train_rows": channels.train_rows,
              "validation_rows": channels.validation_rows, "nthread": args.nthread,
              "xgboost_version": xgb.__version__, "largest_f1_drop": LARGEST_F1_DROP, "runs": runs}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"training_speed_{options.label}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
