"""What the JVM class archive (instacart_lake.jvm_archive) saves: the README's run and a job's
start, with and without it, in turns.

1. The whole `lake run` on a generated dataset (tiny by default: the run is then mostly the
   start of its job processes), in `--runs` pairs.
2. A job's start, in `--starts` pairs, each a new process: its session, then its first query
   (the version and the row count of the first run's clean orders table, a Delta table).
"Without" runs with the archive set aside under another name, so the sessions start exactly
as they did before it existed (the archive's name is the only switch); it is put back at the
end, whatever happens.

    python benchmarks/jvm_start.py --runs 2 --starts 5

Writes benchmarks/results/jvm_start.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

from measure import run_measured

from instacart_lake.jvm_archive import archive_path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BIN = Path(sys.executable).parent


def probe(table_uri: str) -> dict:
    """A job's start, in this process: its session, then its first query."""
    started = time.perf_counter()
    from instacart_lake.delta import DeltaTableIO
    from instacart_lake.runtime import build_local_spark

    spark = build_local_spark("jvm-start-probe")
    session = time.perf_counter()
    table_io = DeltaTableIO(spark)
    rows = table_io.read(table_uri, table_io.version(table_uri)).count()
    first_query = time.perf_counter()
    return {"session_seconds": round(session - started, 2), "first_query_seconds": round(first_query - session, 2),
            "rows": rows}


@contextmanager
def archive_set_aside(archive: Path):
    aside = archive.with_name(archive.name + ".aside")
    archive.rename(aside)
    try:
        yield
    finally:
        aside.rename(archive)


def _timed_start(table_uri: str) -> dict:
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, __file__, "--probe", table_uri], capture_output=True, text=True,
                               check=True)
    record = json.loads(completed.stdout.strip().splitlines()[-1])
    return {**record, "process_seconds": round(time.perf_counter() - started, 2)}


def _timed_run(source: Path, lake_root: Path) -> dict:
    log = lake_root.with_name(f"{lake_root.name}.log")
    with log.open("w") as output:
        measured = run_measured([str(BIN / "lake"), "--lake-root", str(lake_root), "run", "--source", str(source)],
                                stdout=output, stderr=subprocess.STDOUT)
    if measured["exit_code"] != 0:
        raise SystemExit("lake run failed:\n" + "\n".join(log.read_text().splitlines()[-20:]))
    return {"wall_seconds": measured["wall_seconds"], "peak_tree_pss_gib": measured["peak_tree_pss_gib"]}


def _in_turns(pairs: int, measure) -> dict[str, list[dict]]:
    """`pairs` measurements with and without the archive, the first of each pair alternating."""
    archive = archive_path()
    results: dict[str, list[dict]] = {"with_archive": [], "without_archive": []}
    for pair in range(pairs):
        for with_archive in ((True, False) if pair % 2 == 0 else (False, True)):
            key = "with_archive" if with_archive else "without_archive"
            with nullcontext() if with_archive else archive_set_aside(archive):
                results[key].append(measure())
            print(f"pair {pair + 1}, {key}: {results[key][-1]}", flush=True)
    return results


def _medians(results: dict[str, list[dict]], field: str) -> dict:
    with_, without = (statistics.median(r[field] for r in results[key]) for key in ("with_archive", "without_archive"))
    return {"with_archive": with_, "without_archive": without, "saved": round(without - with_, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="tiny", choices=("tiny", "small"))
    parser.add_argument("--runs", type=int, default=2, help="pairs of whole runs")
    parser.add_argument("--starts", type=int, default=5, help="pairs of job starts")
    parser.add_argument("--probe", metavar="TABLE_URI", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1: the job starts read the clean tables of the first run")
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return 0
    archive = archive_path()
    if archive is None or not archive.is_file():
        raise SystemExit("no JVM class archive to compare with: run `make setup` first")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="jvm-start-") as work:
        source = Path(work, "source")
        subprocess.run([str(BIN / "lake"), "generate", "--scale", args.scale, "--out", str(source)],
                       check=True, capture_output=True)
        runs = _in_turns(args.runs, lambda: _timed_run(source, Path(work, f"lake-{time.monotonic_ns()}")))
        orders = next(Path(work).glob("lake-*/clean/orders"))
        starts = _in_turns(args.starts, lambda: _timed_start(orders.as_uri()))
    record = {
        "scale": args.scale,
        "archive_mib": round(archive.stat().st_size / 2**20),
        "lake_run_seconds": _medians(runs, "wall_seconds"),
        "job_start": {field: _medians(starts, field)
                      for field in ("session_seconds", "first_query_seconds", "process_seconds")},
        "runs": runs,
        "starts": starts,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_before": [round(load, 2) for load in load_before]},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "jvm_start.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({key: record[key] for key in ("lake_run_seconds", "job_start")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
