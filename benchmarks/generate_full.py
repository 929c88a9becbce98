"""Time `lake generate` at full scale, measure its peak memory, and record `lake stats` of the
output.

The generator runs as a child process (`python -m instacart_lake.cli generate`), measured by
`measure.run_measured` (wall time, peak summed memory of the process tree). Limits: 3 minutes and 8 GB
on a 2-core machine. The machine may be shared: the load average at the start is recorded,
and a run close to a limit is worth repeating.

    python benchmarks/generate_full.py                      # full scale into /tmp/instacart_full
    python benchmarks/generate_full.py --scale small --no-stats

Writes benchmarks/results/generate_<scale>.json (time, memory, limits) and, unless --no-stats,
benchmarks/results/generate_<scale>_stats.txt and .json (the output of `lake stats`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from measure import run_measured

RESULTS = Path(__file__).resolve().parent / "results"
TIME_LIMIT_SECONDS = 180
MEMORY_LIMIT_BYTES = 8 * 1024 ** 3

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="full")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/instacart_full"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-stats", action="store_true", help="skip `lake stats` of the output")
    args = parser.parse_args(argv)

    lake = [sys.executable, "-m", "instacart_lake.cli"]
    load_before = os.getloadavg()
    measured = run_measured(lake + ["generate", "--scale", args.scale, "--seed", str(args.seed),
                                    "--out", str(args.out), "--workers", str(args.workers)])
    record = {
        "command": (f"lake generate --scale {args.scale} --seed {args.seed} --out {args.out} "
                    f"--workers {args.workers}"),
        **measured,
        "peak_tree_rss_gib": round(measured["peak_tree_rss_bytes"] / 1024 ** 3, 2),
        "within_time_limit": measured["wall_seconds"] < TIME_LIMIT_SECONDS,
        "within_memory_limit": measured["peak_tree_rss_bytes"] < MEMORY_LIMIT_BYTES,
        "limits": {"wall_seconds": TIME_LIMIT_SECONDS, "memory_bytes": MEMORY_LIMIT_BYTES},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_before": [round(load, 2) for load in load_before]},
        "output_bytes": sum(p.stat().st_size for p in args.out.glob("*.csv")),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"generate_{args.scale}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    if measured["exit_code"] != 0:
        return measured["exit_code"]
    if not args.no_stats:
        for suffix, extra in (("json", ["--json"]), ("txt", [])):
            shown = subprocess.run(lake + ["stats", str(args.out), *extra], check=True,
                                   capture_output=True, text=True).stdout
            (RESULTS / f"generate_{args.scale}_stats.{suffix}").write_text(shown)
        print(shown)
    return 0 if record["within_time_limit"] and record["within_memory_limit"] else 1


if __name__ == "__main__":
    sys.exit(main())
