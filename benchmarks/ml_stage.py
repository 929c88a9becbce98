"""Benchmark the ML stage: the model's mean F1 against the oracle and the baselines, and the
training job's time and peak memory.

Runs the pipeline (`lake run`) on a generated dataset, reads the evaluation of the model
version it trained from `lake status --json`, then trains once more on the same channels,
alone, as the local runner does (ml/train.py with the SM_* variables), to measure the
training job's wall time and peak memory without the rest of the pipeline.

    python benchmarks/ml_stage.py --scale medium
    python benchmarks/ml_stage.py --scale full --lake-root /tmp/instacart_bench_lake --from curated_to_ml

The dataset is generated (seed 1) into /tmp/instacart_<scale> when that folder has no
orders.csv. With --from, the run starts at that stage on the tables the lake already has
(e.g. the lake left by raw_to_clean_full.py); without it the run is the whole pipeline on a
fresh lake, and the record says whether it met the whole run's goals (at most 8 minutes, at
most 12 GiB peak). Writes benchmarks/results/ml_stage_<scale>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import run_measured

from instacart_lake.context import Lake
from instacart_lake.locations import uri_to_path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
TRAIN_SCRIPT = ROOT / "ml" / "train.py"
WHOLE_RUN_SECONDS = 8 * 60
WHOLE_RUN_PEAK_BYTES = 12 * 1024 ** 3
"""The whole run's goals at full scale: its wall time, and the peak PSS of its process tree
(RSS summed over processes counts the pages Spark's forked Python workers share once each)."""


def measure_training(lake_root: Path, hyperparameters: dict) -> dict:
    """Train on the lake's channels in a process of its own; its time, peak memory and metrics."""
    lake = Lake.from_environment(root=lake_root, profile="local")
    with tempfile.TemporaryDirectory(prefix="train-bench-") as scratch:
        model_dir, output_dir = Path(scratch, "model"), Path(scratch, "output")
        model_dir.mkdir()
        output_dir.mkdir()
        environment = {
            "PATH": os.environ["PATH"],
            "SM_CHANNEL_TRAIN": uri_to_path(lake.locations.ml_set_uri("train")),
            "SM_CHANNEL_VALIDATION": uri_to_path(lake.locations.ml_set_uri("validation")),
            "SM_MODEL_DIR": str(model_dir),
            "SM_OUTPUT_DATA_DIR": str(output_dir),
            "SM_NUM_CPUS": str(os.cpu_count()),
            **{f"SM_HP_{name.upper()}": value if isinstance(value, str) else json.dumps(value)
               for name, value in hyperparameters.items()},
        }
        measured = run_measured([sys.executable, str(TRAIN_SCRIPT)], env=environment, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        metrics = json.loads((output_dir / "metrics.json").read_text())
    return {**measured, "metrics": metrics}


def newest_model_card(lake_root: Path) -> dict:
    """The card of the model version the run trained: the lake's newest model card."""
    models = Path(uri_to_path(Lake.from_environment(root=lake_root, profile="local").locations.ml_models_uri))
    cards = [json.loads(path.read_text()) for path in models.glob("*/output/model_card.json")]
    return max(cards, key=lambda card: card["created_at"])


def stage_at(stages: list[dict], moment: str | None) -> str | None:
    """The stage that was running at `moment` (an ISO time), if any; at the second one stage ends
    and the next starts, the next."""
    if moment is None:
        return None
    at = dt.datetime.fromisoformat(moment)
    return next((stage["stage"] for stage in reversed(stages) if stage.get("started_at") and stage.get("finished_at")
                 and dt.datetime.fromisoformat(stage["started_at"]) <= at
                 <= dt.datetime.fromisoformat(stage["finished_at"])), None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium", choices=("tiny", "small", "medium", "full"))
    parser.add_argument("--source", type=Path, help="generated dataset (default /tmp/instacart_<scale>)")
    parser.add_argument("--lake-root", type=Path, help="default /tmp/ml_bench_lake_<scale>, made afresh")
    parser.add_argument("--from", dest="start", help="first stage of the run (keeps the lake)")
    args = parser.parse_args(argv)

    source = args.source or Path(f"/tmp/instacart_{args.scale}")
    lake_root = args.lake_root or Path(f"/tmp/ml_bench_lake_{args.scale}")
    lake = [sys.executable, "-m", "instacart_lake.cli", "--lake-root", str(lake_root)]
    if not (source / "orders.csv").exists():
        subprocess.run([*lake, "generate", "--scale", args.scale, "--seed", "1", "--out", str(source),
                        "--workers", "2"], check=True)
    command = [*lake, "run", "--source", str(source)]
    if args.start:
        command += ["--from", args.start]
    else:
        shutil.rmtree(lake_root, ignore_errors=True)
    load_before = os.getloadavg()
    pipeline = run_measured(command)
    if pipeline["exit_code"]:
        return pipeline["exit_code"]
    status = json.loads(subprocess.run([*lake, "status", "--json"], capture_output=True, text=True,
                                       check=True).stdout)
    stages = {stage["stage"]: stage for stage in status["stages"]}
    evaluation = stages["gold_predictions"]["details"]["evaluation"]
    card = newest_model_card(lake_root)
    training = measure_training(lake_root, card["hyperparameters"])
    record = {
        "scale": args.scale,
        "source": str(source),
        "model_version": card["model_version"],
        "evaluation": evaluation,
        "goals": {
            "expected_f1_at_least_0.97_of_oracle": evaluation["expected_f1_to_oracle"] is not None
            and evaluation["expected_f1_to_oracle"] >= 0.97,
            "expected_f1_beats_threshold_by_0.01": evaluation["f1_expected_f1"] - evaluation["f1_threshold"] >= 0.01,
            "expected_f1_beats_last_order": evaluation["f1_expected_f1"] > evaluation["f1_last_order_reorders"],
            **({"whole_run_at_most_8_minutes": pipeline["wall_seconds"] <= WHOLE_RUN_SECONDS,
                "whole_run_peak_at_most_12_gib": pipeline["peak_tree_pss_bytes"] <= WHOLE_RUN_PEAK_BYTES}
               if not args.start else {}),
        },
        "training_metrics": card["metrics"],
        "stage_seconds": {name: stage["seconds"] for name, stage in stages.items()},
        "sets": stages["curated_to_ml"]["tables"],
        "pipeline_run": {**pipeline, "peak_tree_pss_stage": stage_at(status["stages"], pipeline["peak_tree_pss_at"])},
        "training_alone": training,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_before": [round(load, 2) for load in load_before]},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"ml_stage_{args.scale}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
