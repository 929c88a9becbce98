"""What evaluating metrics every boosting round costs the training job, and that the model
does not depend on it.

Trains twice on the same channels with ml/train.py's hyperparameters and early stopping:
once evaluating AUC and log loss on both the training and the validation set every round
(what train.py did before), once evaluating the validation log loss alone (what train.py
does: the metric early stopping watches). Reports each run's seconds and best iteration,
and whether the two models, cut at their best iteration, are the same bytes; exits 1 when
they are not.

    python benchmarks/training_evaluation_cost.py --lake-root /tmp/ml_bench_lake_full

Writes benchmarks/results/training_evaluation_cost_<label>.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import xgboost as xgb
from training_channels import ROOT, load_training_channels, train

RESULTS = ROOT / "benchmarks" / "results"


def timed_training(params: dict, dtrain: xgb.DMatrix, evals: list, args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    booster = xgb.train(params, dtrain, num_boost_round=args.num_round, evals=evals,
                        early_stopping_rounds=args.early_stopping_rounds, verbose_eval=False)
    seconds = time.perf_counter() - started
    model = booster[: booster.best_iteration + 1]
    return {"seconds": round(seconds, 1), "best_iteration": int(booster.best_iteration),
            "model_sha256": hashlib.sha256(bytes(model.save_raw())).hexdigest()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake-root", type=Path, default=Path("/tmp/ml_bench_lake_full"))
    parser.add_argument("--label", default="full")
    options = parser.parse_args(argv)
    channels = load_training_channels(options.lake_root)
    args, dtrain, dvalidation = channels.args, channels.dtrain, channels.dvalidation
    now = train.booster_params(args)
    before = {**now, "eval_metric": ["auc", "logloss"]}
    runs = {
        "every_round_auc_and_logloss_on_train_and_validation": timed_training(
            before, dtrain, [(dtrain, "train"), (dvalidation, "validation")], args),
        "every_round_validation_logloss": timed_training(now, dtrain, [(dvalidation, "validation")], args),
    }
    hashes = {run["model_sha256"] for run in runs.values()}
    record = {"command": "python benchmarks/training_evaluation_cost.py", "lake_root": str(options.lake_root),
              "train_rows": channels.train_rows, "validation_rows": channels.validation_rows,
              "nthread": args.nthread, "xgboost_version": xgb.__version__, "runs": runs,
              "same_model": len(hashes) == 1}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"training_evaluation_cost_{options.label}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0 if record["same_model"] else 1


if __name__ == "__main__":
    sys.exit(main())
