"""Job 1 and job 2 at full scale, wall time and peak memory, for one version of the code: the
figures before and after a change (the Delta writer: delta-rs commits, then the Delta Spark
extension) side by side in one results file.

    python benchmarks/writer_change_full.py --ref f5a6799 --label before   # an older commit
    python benchmarks/writer_change_full.py --label after                  # the working tree

A `--ref` is checked out in a temporary git worktree and run with that tree first on
PYTHONPATH (the virtual environment is the same). Each job runs as `lake run` of its stage
in its own process: the lake is ingested and crawled first (not timed), then raw_to_clean and
clean_to_curated are each measured (wall time, peak memory of the process tree, the stage's
own seconds from the run record). The dataset is generated first when the source folder has
no orders.csv. Merges the figures under `label` into benchmarks/results/writer_change_full.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import run_measured

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "benchmarks" / "results" / "writer_change_full.json"
JOBS = ("raw_to_clean", "clean_to_curated")


def measure_code(code_root: Path, source: Path, lake_root: Path) -> dict:
    """The figures of the code in `code_root`; commands run there, since `python -m` puts the
    working directory first on the path."""
    env = {**os.environ, "PYTHONPATH": str(code_root)}
    lake = [sys.executable, "-m", "instacart_lake.cli", "--lake-root", str(lake_root)]
    shutil.rmtree(lake_root, ignore_errors=True)
    prepared = run_measured([*lake, "run", "--source", str(source), "--until", "crawl"], env=env,
                            cwd=code_root)
    if prepared["exit_code"]:
        raise SystemExit(f"ingest and crawl failed with exit code {prepared['exit_code']}")
    figures = {}
    for job in JOBS:
        measured = run_measured([*lake, "run", "--source", str(source), "--from", job, "--until", job], env=env,
                                cwd=code_root)
        if measured["exit_code"]:
            raise SystemExit(f"{job} failed with exit code {measured['exit_code']}")
        status = json.loads(subprocess.run([*lake, "status", "--json"], env=env, cwd=code_root,
                                           capture_output=True, text=True, check=True).stdout)
        stage = next(s for s in status["stages"] if s["stage"] == job)
        figures[job] = {"stage_seconds": stage["seconds"], **measured,
                        "rows_written": {name: table.get("rows_written") for name, table in stage["tables"].items()}}
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", help="git commit to measure (default: the working tree)")
    parser.add_argument("--label", required=True, help="name of these figures, e.g. before or after")
    parser.add_argument("--source", type=Path, default=Path("/tmp/instacart_full"))
    parser.add_argument("--lake-root", type=Path, default=Path("/tmp/instacart_bench_lake"))
    args = parser.parse_args(argv)

    if not (args.source / "orders.csv").exists():
        subprocess.run([sys.executable, "-m", "instacart_lake.cli", "generate", "--scale", "full", "--seed", "1",
                        "--out", str(args.source), "--workers", "2"], check=True)
    load_before = os.getloadavg()
    if args.ref:
        with tempfile.TemporaryDirectory(prefix="lake-bench-") as worktree:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", worktree, args.ref], check=True)
            try:
                figures = measure_code(Path(worktree), args.source, args.lake_root)
                commit = subprocess.run(["git", "-C", worktree, "rev-parse", "--short", "HEAD"],
                                        capture_output=True, text=True, check=True).stdout.strip()
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", worktree], check=True)
    else:
        figures = measure_code(ROOT, args.source, args.lake_root)
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip() + " (working tree)"
    results = json.loads(RESULT.read_text()) if RESULT.exists() else {}
    results[args.label] = {
        "code": commit,
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source": str(args.source),
        "cpus": os.cpu_count(),
        "load_average_before": [round(load, 2) for load in load_before],
        **figures,
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results[args.label], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
