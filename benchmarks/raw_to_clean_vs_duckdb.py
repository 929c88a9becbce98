"""Time job 1 (raw_to_clean) against its DuckDB reference (instacart_lake.reference.duckdb_clean)
on the same source files, and check that both give the same outcome.

Each engine runs in its own process, with the peak memory of its process tree:
(a) the reference, writing <out>/<table>/clean.parquet and quarantine.parquet;
(b) job 1 as benchmarks/raw_to_clean_full.py runs it: ingest and crawl first (not timed),
    then `lake run --until raw_to_clean`, whose seconds come from `lake status --json`.
Then per table: clean rows, dropped duplicates, quarantined lines, the counts of each reason,
and the quarantined (line number, reasons) themselves (job 1's read from its Delta tables).

    python benchmarks/raw_to_clean_vs_duckdb.py                     # data in /tmp/instacart_full
    python benchmarks/raw_to_clean_vs_duckdb.py --source /tmp/dd_small --label small

Writes benchmarks/results/raw_to_clean_vs_duckdb_<label>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
from deltalake import DeltaTable
from measure import run_measured

from instacart_lake.context import Lake
from instacart_lake.locations import uri_to_path
from instacart_lake.schemas import SOURCE_TABLES

RESULTS = Path(__file__).resolve().parent / "results"
SUMMARY = "summary.json"


def run_reference(source: Path, out: Path, threads: int) -> None:
    """The reference's run (in the child process): its outcome and seconds to <out>/summary.json."""
    from instacart_lake.reference.duckdb_clean import clean_tables

    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    outcomes = clean_tables({name: source / table.file_name for name, table in SOURCE_TABLES.items()},
                            out, threads=threads)
    seconds = time.perf_counter() - started
    tables = {name: {"clean_rows": outcome.clean_rows, "dropped_duplicates": outcome.dropped_duplicates,
                     "quarantined_lines": outcome.quarantine.num_rows,
                     "quarantine_reasons": dict(Counter(
                         reason for reasons in outcome.quarantine.column("reasons").to_pylist()
                         for reason in reasons))}
              for name, outcome in outcomes.items()}
    (out / SUMMARY).write_text(json.dumps({"seconds": round(seconds, 2), "tables": tables}, indent=2))


def run_job_1(source: Path, lake_root: Path) -> dict:
    lake = [sys.executable, "-m", "instacart_lake.cli", "--lake-root", str(lake_root)]
    shutil.rmtree(lake_root, ignore_errors=True)
    prepared = run_measured([*lake, "run", "--source", str(source), "--until", "crawl"])
    if prepared["exit_code"]:
        raise SystemExit(f"ingest and crawl failed ({prepared['exit_code']})")
    measured = run_measured([*lake, "run", "--source", str(source), "--until", "raw_to_clean"])
    status = json.loads(subprocess.run([*lake, "status", "--json"], capture_output=True, text=True,
                                       check=True).stdout)
    stage = next(s for s in status["stages"] if s["stage"] == "raw_to_clean")
    keys = ("clean_rows", "dropped_duplicates", "quarantined_lines", "quarantine_reasons", "phase_seconds")
    return {"seconds": stage["seconds"], **measured, "ingest_and_crawl_seconds": prepared["wall_seconds"],
            "tables": {name: {key: table[key] for key in keys} for name, table in stage["tables"].items()}}


def quarantined_lines(lake_root: Path, reference_out: Path, name: str) -> tuple[set, set]:
    """(line number, sorted reasons) of a table's quarantine: job 1's, the reference's."""
    uri = Lake.from_environment(root=lake_root, profile="local").locations.quarantine_table_uri(name)
    job = DeltaTable(uri_to_path(uri)).to_pyarrow_table(columns=["line_number", "reasons"]).to_pylist()
    reference = pq.read_table(reference_out / name / "quarantine.parquet",
                              columns=["line_number", "reasons"]).to_pylist()
    return ({(row["line_number"], tuple(sorted(row["reasons"]))) for row in job},
            {(row["line_number"], tuple(row["reasons"])) for row in reference})


def differences(job: dict, reference: dict, lake_root: Path, reference_out: Path) -> dict:
    """Per table, what differs (empty when both engines agree)."""
    found = {}
    for name in SOURCE_TABLES:
        table = {key: {"job_1": job[name][key], "duckdb": reference[name][key]}
                 for key in ("clean_rows", "dropped_duplicates", "quarantined_lines", "quarantine_reasons")
                 if job[name][key] != reference[name][key]}
        job_lines, reference_lines = quarantined_lines(lake_root, reference_out, name)
        if job_lines != reference_lines:
            table["quarantined_lines_only_in_job_1"] = sorted(job_lines - reference_lines)[:20]
            table["quarantined_lines_only_in_duckdb"] = sorted(reference_lines - job_lines)[:20]
        if table:
            found[name] = table
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("/tmp/instacart_full"))
    parser.add_argument("--lake-root", type=Path, default=Path("/tmp/instacart_bench_lake"))
    parser.add_argument("--duckdb-out", type=Path, default=Path("/tmp/raw_to_clean_duckdb"))
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
    parser.add_argument("--label", default="full")
    parser.add_argument("--reference-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reference_only:
        run_reference(args.source, args.duckdb_out, args.threads)
        return 0

    load_before = os.getloadavg()
    measured = run_measured([sys.executable, __file__, "--reference-only", "--source", str(args.source),
                             "--duckdb-out", str(args.duckdb_out), "--threads", str(args.threads)])
    if measured["exit_code"]:
        return measured["exit_code"]
    reference = {**json.loads((args.duckdb_out / SUMMARY).read_text()), **measured}
    job = run_job_1(args.source, args.lake_root)
    found = differences(job["tables"], reference["tables"], args.lake_root, args.duckdb_out)
    record = {
        "source": str(args.source),
        "raw_lines": sum(t["clean_rows"] + t["dropped_duplicates"] + t["quarantined_lines"]
                         for t in job["tables"].values()),
        "job_1_seconds": job["seconds"],
        "duckdb_seconds": reference["seconds"],
        "ratio_job_1_to_duckdb": round(job["seconds"] / reference["seconds"], 2) if reference["seconds"] else None,
        "job_1_peak_tree_rss_gib": job["peak_tree_rss_gib"],
        "duckdb_peak_tree_rss_gib": reference["peak_tree_rss_gib"],
        "same_outcome": not found,
        "differences": found,
        "job_1": job,
        "duckdb": {**reference, "threads": args.threads},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_before": [round(load, 2) for load in load_before]},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"raw_to_clean_vs_duckdb_{args.label}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({key: value for key, value in record.items() if key not in ("job_1", "duckdb")}, indent=2))
    return 0 if not found else 1


if __name__ == "__main__":
    sys.exit(main())
