"""Benchmark job 2 (clean_to_curated) against the DuckDB reference on the same clean input.

Job 2 runs as its Glue script does locally (`glue_jobs/clean_to_curated.py`: Spark session,
features, the DQDL gate, the Delta commits and the catalog registrations). The reference
computes the same four feature tables with the SQL of `instacart_lake/reference/`, reading
the Parquet files of the same clean Delta table versions, and writes them as Parquet. Each
runs in its own process; the wall time and the peak memory of each process tree are
measured, engine start included.

    python benchmarks/clean_to_curated_full.py          # lake in /tmp/instacart_bench_lake

The lake is the one `raw_to_clean_full.py` leaves behind (clean tables at full scale); when
it has no clean tables, job 1 runs first on --source. Writes
benchmarks/results/clean_to_curated_<label>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deltalake import DeltaTable
from measure import run_measured

from instacart_lake.reference import duckdb_features

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
JOB_SCRIPT = ROOT / "glue_jobs" / "clean_to_curated.py"
FEATURE_INPUTS = ("orders", "order_products__prior")


def clean_files(lake_root: Path) -> dict[str, list[str]]:
    """The Parquet files of the current version of each input's clean Delta table."""
    return {name: [uri.removeprefix("file://") for uri in DeltaTable(str(lake_root / "clean" / name)).file_uris()]
            for name in FEATURE_INPUTS}


def run_reference(lake_root: Path, output: Path, threads: int) -> None:
    """The DuckDB reference: the four feature tables from the clean tables, written as Parquet."""
    started = time.perf_counter()
    connection = duckdb_features.connect(clean_files(lake_root), threads=threads)
    duckdb_features.create_feature_tables(connection)
    output.mkdir(parents=True, exist_ok=True)
    rows = {}
    for name in duckdb_features.FEATURE_TABLES:
        connection.execute(f"COPY {name} TO '{(output / name).as_posix()}.parquet' (FORMAT parquet)")
        rows[name] = connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    print(json.dumps({"rows": rows, "seconds": round(time.perf_counter() - started, 2)}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake-root", type=Path, default=Path("/tmp/instacart_bench_lake"))
    parser.add_argument("--source", type=Path, default=Path("/tmp/instacart_full"),
                        help="raw CSV folder for job 1 when the lake has no clean tables")
    parser.add_argument("--duckdb-threads", type=int, default=os.cpu_count())
    parser.add_argument("--label", default="full")
    parser.add_argument("--reference-only", type=Path, metavar="OUTPUT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.reference_only:
        run_reference(args.lake_root, args.reference_only, args.duckdb_threads)
        return 0

    environment = {**os.environ, "LAKE_ROOT": str(args.lake_root), "LAKE_PROFILE": "local"}
    if not (args.lake_root / "clean" / "orders" / "_delta_log").exists():
        lake = [sys.executable, "-m", "instacart_lake.cli", "--lake-root", str(args.lake_root)]
        subprocess.run([*lake, "run", "--source", str(args.source), "--until", "raw_to_clean"], check=True)

    load_before = os.getloadavg()
    job = run_measured([sys.executable, str(JOB_SCRIPT), "--JOB_NAME", "clean_to_curated",
                        "--lake_profile", "local"], env=environment, cwd=ROOT)
    if job["exit_code"]:
        return job["exit_code"]
    output = Path(tempfile.mkdtemp(prefix="reference-features-"))
    try:
        reference_log = output / "reference.json"
        with reference_log.open("w") as log:
            reference = run_measured([sys.executable, __file__, "--lake-root", str(args.lake_root),
                                      "--duckdb-threads", str(args.duckdb_threads),
                                      "--reference-only", str(output / "tables")], stdout=log, cwd=ROOT)
        reference_rows = json.loads(reference_log.read_text())["rows"]
    finally:
        shutil.rmtree(output)

    job_rows = {name: DeltaTable(str(args.lake_root / "curated" / name)).to_pyarrow_dataset().count_rows()
                for name in duckdb_features.FEATURE_TABLES}
    prior_lines = sum(DeltaTable(str(args.lake_root / "clean" / "order_products__prior")).get_add_actions(
        flatten=True).column("num_records").to_pylist())
    record = {
        "job": "glue_jobs/clean_to_curated.py (features, DQDL gate, Delta commits, catalog), own process",
        "reference": "instacart_lake/reference SQL in DuckDB on the same clean files, Parquet out, own process",
        "prior_lines": prior_lines,
        "job_run": job,
        "reference_run": reference,
        "ratio_wall": round(job["wall_seconds"] / reference["wall_seconds"], 2),
        "rows": {name: {"job": job_rows[name], "reference": reference_rows[name]} for name in job_rows},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "duckdb_threads": args.duckdb_threads,
                    "load_average_before": [round(load, 2) for load in load_before]},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"clean_to_curated_{args.label}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0 if job_rows == reference_rows else 1


if __name__ == "__main__":
    sys.exit(main())
