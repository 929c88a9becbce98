"""The floor of job 1 on Spark: every source CSV file read with its typed schema and written
as plain Parquet, with no validation, no line numbers, no quarantine, no gate, no Delta commit
and no catalog, next to job 1's DuckDB reference (which does all of job 1's validation), each
in its own process on the same files. Job 1 must at least read and write what this floor
does, so `floor seconds / reference seconds` is the lowest ratio job 1 could reach on Spark
on this machine.

    python benchmarks/raw_to_clean_floor.py          # data in /tmp/instacart_full

Writes benchmarks/results/raw_to_clean_floor_<label>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from measure import run_measured

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
REFERENCE_SCRIPT = ROOT / "benchmarks" / "raw_to_clean_vs_duckdb.py"


def run_floor(source: Path, output: Path) -> None:
    """Each source table read from its CSV file with its schema, written as Parquet by Spark."""
    from instacart_lake.runtime import build_local_spark
    from instacart_lake.schemas import SOURCE_TABLES

    started = time.perf_counter()
    spark = build_local_spark("raw-to-clean-floor")
    for name, table in SOURCE_TABLES.items():
        (spark.read.csv(str(source / table.file_name), header=True, schema=table.spark_schema())
         .write.parquet(str(output / name)))
    print(json.dumps({"seconds": round(time.perf_counter() - started, 2)}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("/tmp/instacart_full"))
    parser.add_argument("--label", default="full")
    parser.add_argument("--floor-only", type=Path, metavar="OUTPUT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.floor_only:
        run_floor(args.source, args.floor_only)
        return 0

    output = Path(tempfile.mkdtemp(prefix="raw-to-clean-floor-"))
    try:
        load_before = os.getloadavg()
        floor = run_measured([sys.executable, __file__, "--source", str(args.source),
                              "--floor-only", str(output / "spark")], cwd=ROOT)
        reference = run_measured([sys.executable, str(REFERENCE_SCRIPT), "--source", str(args.source),
                                  "--duckdb-out", str(output / "duckdb"), "--reference-only"], cwd=ROOT)
        reference_seconds = json.loads((output / "duckdb" / "summary.json").read_text())["seconds"]
    finally:
        shutil.rmtree(output)
    record = {
        "floor": "every source CSV read by Spark with its schema, Parquet out; no validation, gate, Delta or "
                 "catalog; own process",
        "reference": "instacart_lake.reference.duckdb_clean: job 1's whole validation in DuckDB, Parquet out, "
                     "own process",
        "floor_run": floor,
        "reference_run": {**reference, "seconds": reference_seconds},
        "ratio_wall": round(floor["wall_seconds"] / reference["wall_seconds"], 2),
        "ratio_floor_wall_to_reference_seconds": round(floor["wall_seconds"] / reference_seconds, 2),
        "machine": {"cpus": os.cpu_count(), "load_average_before": [round(load, 2) for load in load_before]},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"raw_to_clean_floor_{args.label}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return floor["exit_code"] or reference["exit_code"]


if __name__ == "__main__":
    sys.exit(main())
