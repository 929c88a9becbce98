"""The floor of job 2 on Spark: the same feature transforms, written as plain Parquet, with no
quality gate, no Delta commit and no catalog, next to the DuckDB reference, each in its own
process on the same clean input. What job 2 spends above this floor is its gate and its
commits; what the floor spends above DuckDB is Spark itself.

    python benchmarks/spark_floor.py          # lake in /tmp/instacart_bench_lake (clean tables)

Writes benchmarks/results/spark_floor_<label>.json.
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
REFERENCE_SCRIPT = ROOT / "benchmarks" / "clean_to_curated_full.py"


def run_floor(lake_root: Path, output: Path) -> None:
    """The four feature tables from the clean tables, written as Parquet by Spark."""
    from instacart_lake.delta import DeltaTableIO
    from instacart_lake.runtime import build_local_spark
    from instacart_lake.transforms.features import build_feature_tables

    started = time.perf_counter()
    spark = build_local_spark("spark-floor")
    table_io = DeltaTableIO(spark)
    clean = {name: table_io.read((lake_root / "clean" / name).as_uri()) for name in ("orders", "order_products__prior")}
    for name, frame in build_feature_tables(clean["orders"], clean["order_products__prior"]).items():
        frame.write.parquet(str(output / name))
    print(json.dumps({"seconds": round(time.perf_counter() - started, 2)}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake-root", type=Path, default=Path("/tmp/instacart_bench_lake"))
    parser.add_argument("--label", default="full")
    parser.add_argument("--floor-only", type=Path, metavar="OUTPUT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.floor_only:
        run_floor(args.lake_root, args.floor_only)
        return 0

    output = Path(tempfile.mkdtemp(prefix="spark-floor-"))
    try:
        load_before = os.getloadavg()
        floor = run_measured([sys.executable, __file__, "--lake-root", str(args.lake_root),
                              "--floor-only", str(output / "spark")], cwd=ROOT)
        reference = run_measured([sys.executable, str(REFERENCE_SCRIPT), "--lake-root", str(args.lake_root),
                                  "--reference-only", str(output / "duckdb")], cwd=ROOT)
    finally:
        shutil.rmtree(output)
    record = {
        "floor": "instacart_lake.transforms.features on Spark, Parquet out, no gate, no Delta, no catalog, own process",
        "reference": "instacart_lake/reference SQL in DuckDB on the same clean files, Parquet out, own process",
        "floor_run": floor,
        "reference_run": reference,
        "ratio_wall": round(floor["wall_seconds"] / reference["wall_seconds"], 2),
        "machine": {"cpus": os.cpu_count(), "load_average_before": [round(load, 2) for load in load_before]},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"spark_floor_{args.label}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return floor["exit_code"] or reference["exit_code"]


if __name__ == "__main__":
    sys.exit(main())
