"""Benchmark our DQDL evaluator against Deequ's DQDL engine on the same ruleset and data: the
ruleset of clean order_products__prior (its ReferentialIntegrity rules against the clean orders
and products tables) over the clean tables of a lake, about 32 M lines at full scale.

Each engine runs in its own process (Spark session start included): the process reads the
three clean Delta tables with Spark, evaluates the ruleset and writes each rule's outcome.
Neither engine gets a cached input: each scans the Delta tables once per pass it makes. The
wall time and the peak memory of each process tree are measured.

    python benchmarks/dq_engines_full.py                  # lake in /tmp/instacart_bench_lake
    python benchmarks/dq_engines_full.py --lake-root /tmp/dqb_lake --label tiny

The lake is the one `raw_to_clean_full.py` leaves behind. Writes
benchmarks/results/dq_engines_<label>.json with both engines' seconds, peak memory and whether
every rule's outcome agreed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from measure import run_measured

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
RULESET = ROOT / "instacart_lake" / "rulesets" / "clean" / "order_products__prior.dqdl"
PRIMARY = "order_products__prior"
REFERENCES = ("orders", "products")
ENGINES = ("instacart_lake", "deequ")


def evaluate_once(engine: str, lake_root: Path, outcomes_file: Path) -> None:
    """In the engine's own process: read the clean tables, evaluate the ruleset, write the outcomes."""
    from instacart_lake.context import Lake
    from instacart_lake.runtime import local_spark

    lake = Lake.from_environment(root=str(lake_root), profile="local")
    spark = local_spark(lake.config, f"dq-engines-{engine}")

    def clean_table(name: str):
        return spark.read.format("delta").load(lake.locations.table_uri("clean", name))

    primary = clean_table(PRIMARY)
    references = {name: clean_table(name) for name in REFERENCES}
    started = time.perf_counter()
    if engine == "deequ":
        sys.path.insert(0, str(ROOT / "tests"))  # the Deequ adapter is test code, not part of the library
        from deequ_dqdl import evaluate_with_deequ

        results = evaluate_with_deequ(spark, RULESET.read_text(encoding="utf-8"), primary, references)
        rules = [{"rule": r.rule, "outcome": r.outcome, "metrics": r.metrics} for r in results]
    else:
        from instacart_lake.dq import evaluate, load_ruleset

        results = evaluate(load_ruleset(RULESET), primary, references)
        rules = [{"rule": r.rule, "outcome": r.outcome.value, "metrics": r.evaluated_metrics} for r in results]
    seconds = round(time.perf_counter() - started, 2)
    outcomes_file.write_text(json.dumps({"evaluate_seconds": seconds, "rules": rules}))
    spark.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake-root", type=Path, default=Path("/tmp/instacart_bench_lake"))
    parser.add_argument("--label", default="full")
    parser.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--outcomes", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.engine:
        evaluate_once(args.engine, args.lake_root, args.outcomes)
        return 0

    if not (args.lake_root / "clean" / PRIMARY / "_delta_log").exists():
        print(f"{args.lake_root} has no clean {PRIMARY} table: run raw_to_clean_full.py first", file=sys.stderr)
        return 2
    load_before = os.getloadavg()
    runs, evaluations = {}, {}
    with tempfile.TemporaryDirectory(prefix="dq-engines-") as scratch:
        for engine in ENGINES:
            outcomes = Path(scratch) / f"{engine}.json"
            runs[engine] = run_measured([sys.executable, __file__, "--lake-root", str(args.lake_root),
                                         "--engine", engine, "--outcomes", str(outcomes)], cwd=ROOT)
            if runs[engine]["exit_code"]:
                return runs[engine]["exit_code"]
            evaluations[engine] = json.loads(outcomes.read_text())

    ours, theirs = (evaluations[engine]["rules"] for engine in ENGINES)
    rules = [{"rule": mine["rule"], "instacart_lake": mine["outcome"], "deequ": other["outcome"],
              "instacart_lake_metrics": mine["metrics"], "deequ_metrics": other["metrics"]}
             for mine, other in zip(ours, theirs, strict=True)]
    record = {
        "ruleset": str(RULESET.relative_to(ROOT)),
        "lake_root": str(args.lake_root),
        "primary_rows": next(rule["metrics"]["Dataset.*.RowCount"] for rule in ours
                             if "Dataset.*.RowCount" in rule["metrics"]),
        "engines": {engine: {**runs[engine], "evaluate_seconds": evaluations[engine]["evaluate_seconds"]}
                    for engine in ENGINES},
        "outcomes_agree": all(rule["instacart_lake"] == rule["deequ"] for rule in rules),
        "rules": rules,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_before": [round(load, 2) for load in load_before]},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"dq_engines_{args.label}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0 if record["outcomes_agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
