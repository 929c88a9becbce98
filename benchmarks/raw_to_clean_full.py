"""Benchmark job 1 (raw_to_clean) at full scale: ingest and crawl a generated full-scale
dataset, then time job 1 alone, with the peak memory of the whole process tree (driver and
Spark's JVM).

    python benchmarks/raw_to_clean_full.py                  # data in /tmp/instacart_full
    python benchmarks/raw_to_clean_full.py --source DIR --defects 0.02

The dataset is generated first when the source folder has no orders.csv. Writes
benchmarks/results/raw_to_clean_<label>.json with the timings, memory and the per-table
counts of the run record.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from measure import run_measured

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("/tmp/instacart_full"))
    parser.add_argument("--scale", default="full", help="scale to generate when the source is empty")
    parser.add_argument("--defects", type=float, default=0.0, help="defect rate when generating")
    parser.add_argument("--lake-root", type=Path, default=Path("/tmp/instacart_bench_lake"))
    parser.add_argument("--label", default="full")
    args = parser.parse_args(argv)

    lake = [sys.executable, "-m", "instacart_lake.cli", "--lake-root", str(args.lake_root)]
    if not (args.source / "orders.csv").exists():
        generate = [*lake, "generate", "--scale", args.scale, "--seed", "1", "--out", str(args.source),
                    "--workers", "2"]
        if args.defects:
            generate += ["--defects", str(args.defects)]
        subprocess.run(generate, check=True)
    shutil.rmtree(args.lake_root, ignore_errors=True)
    load_before = os.getloadavg()
    prepared = run_measured([*lake, "run", "--source", str(args.source), "--until", "crawl"])
    if prepared["exit_code"]:
        return prepared["exit_code"]
    measured = run_measured([*lake, "run", "--source", str(args.source), "--until", "raw_to_clean"])
    status = json.loads(subprocess.run([*lake, "status", "--json"], capture_output=True, text=True).stdout)
    stage = next(s for s in status["stages"] if s["stage"] == "raw_to_clean")
    raw_lines = sum(t["raw_lines"] for t in stage["tables"].values())
    record = {
        "command": "lake run --until raw_to_clean (after ingest and crawl)",
        "source": str(args.source),
        "raw_lines": raw_lines,
        "job_seconds": stage["seconds"],
        "lines_per_second": round(raw_lines / stage["seconds"]) if stage["seconds"] else None,
        **measured,
        "ingest_and_crawl_seconds": prepared["wall_seconds"],
        "tables": {name: {key: table[key] for key in ("raw_lines", "clean_rows", "quarantined_lines",
                                                      "dropped_duplicates", "quality_score")}
                   for name, table in stage["tables"].items()},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_before": [round(load, 2) for load in load_before]},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"raw_to_clean_{args.label}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return measured["exit_code"]


if __name__ == "__main__":
    sys.exit(main())
