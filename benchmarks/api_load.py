"""Load on the prediction API served by `lake serve`: vegeta (an open-loop, constant-rate load
generator, in its own process) sends GET /users/{id}/next-basket for random users of the
current model version over loopback, 60 s at 200, 500 and 1,000 requests per second; p50,
p99 and errors per rate. Goal: p99 at most 10 ms at 1,000 requests per second, no errors.

    python benchmarks/serving_export_full.py     # first: a full-scale serving store
    python benchmarks/api_load.py [--lake-root /tmp/serving_export_full_lake] [--vegeta PATH]

vegeta is installed with `go install github.com/tsenart/vegeta/v12@<[tools] vegeta of
versions.toml>`. The server is `lake serve` in its own process (one thread per connection,
the embedded store). The machine is shared: the load average, the machine's CPU use and the
server's CPU use during each run are recorded beside the figures. Writes
benchmarks/results/api_load.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from instacart_lake.context import Lake
from instacart_lake.serving import open_serving_store
from instacart_lake.serving.gold_tables import open_table, read_partition
from instacart_lake.versions import load_manifest

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "benchmarks" / "results" / "api_load.json"
RATES = (200, 500, 1000)
SECONDS = 60
TARGETS = 50_000
API_KEY = "benchmark-key"
GOAL_P99_MS = 10.0
SEED = 14


def find_vegeta(given: str | None) -> str:
    go_bin = Path(os.environ.get("GOBIN", Path.home() / "go" / "bin"))
    candidates = [given, shutil.which("vegeta"), str(go_bin / "vegeta")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    version = load_manifest()["tools"]["vegeta"]
    sys.exit(f"no vegeta: go install github.com/tsenart/vegeta/v12@{version} (or pass --vegeta PATH)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(lake_root: Path, port: int) -> subprocess.Popen:
    lake_command = str(Path(sys.executable).with_name("lake"))
    server = subprocess.Popen([lake_command, "--lake-root", str(lake_root), "serve", "--port", str(port)],
                              env={**os.environ, "LAKE_API_KEY": API_KEY}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("lake serve did not answer /health")


def write_targets(path: Path, port: int, users: list[int]) -> None:
    picks = random.Random(SEED).choices(users, k=TARGETS)
    path.write_text("".join(f"GET http://127.0.0.1:{port}/users/{user}/next-basket\nx-api-key: {API_KEY}\n\n"
                            for user in picks))


def cpu_times() -> tuple[int, int]:
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def attack(vegeta: str, targets: Path, rate: int, seconds: int, server_pid: int) -> dict:
    load_before = os.getloadavg()
    busy_before, total_before = cpu_times()
    server_before = process_cpu_seconds(server_pid)
    attacked = subprocess.run([vegeta, "attack", f"-targets={targets}", f"-rate={rate}/s", f"-duration={seconds}s",
                               "-timeout=5s"], capture_output=True, check=True)
    busy_after, total_after = cpu_times()
    server_after = process_cpu_seconds(server_pid)
    report = json.loads(subprocess.run([vegeta, "report", "-type=json"], input=attacked.stdout,
                                       capture_output=True, check=True).stdout)
    latencies = {name: round(report["latencies"][key] / 1e6, 2)
                 for name, key in (("p50_ms", "50th"), ("p90_ms", "90th"), ("p95_ms", "95th"), ("p99_ms", "99th"),
                                   ("max_ms", "max"), ("mean_ms", "mean"))}
    errors = report["requests"] - report["status_codes"].get("200", 0)
    return {"rate_per_second": rate, "seconds": seconds, "requests": report["requests"],
            "achieved_rate": round(report["rate"], 1), "throughput": round(report["throughput"], 1),
            **latencies, "errors": errors, "status_codes": report["status_codes"],
            "error_messages": sorted({message.rpartition(": ")[2] for message in report.get("errors") or []})[:5],
            "server_cpu_percent": round(100 * (server_after - server_before) / seconds, 1),
            "machine_cpu_busy_percent": round(100 * (busy_after - busy_before) / (total_after - total_before), 1),
            "load_average_before": [round(value, 2) for value in load_before],
            "load_average_after": [round(value, 2) for value in os.getloadavg()]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lake-root", type=Path, default=Path("/tmp/serving_export_full_lake"))
    parser.add_argument("--vegeta")
    parser.add_argument("--seconds", type=int, default=SECONDS)
    args = parser.parse_args()
    vegeta = find_vegeta(args.vegeta)
    lake = Lake.from_environment(root=str(args.lake_root), profile="local")
    pointer = open_serving_store(lake).current()
    if pointer is None:
        sys.exit(f"{args.lake_root}: no serving store; run benchmarks/serving_export_full.py first")
    baskets = read_partition(open_table(lake, "curated", "next_basket"), pointer.model_version, ["user_id"])
    users = baskets.column("user_id").to_pylist()
    port = free_port()
    server = start_server(args.lake_root, port)
    try:
        with tempfile.TemporaryDirectory() as folder:
            targets = Path(folder) / "targets.txt"
            write_targets(targets, port, users)
            runs = []
            for rate in RATES:
                runs.append(attack(vegeta, targets, rate, args.seconds, server.pid))
                time.sleep(5)
    finally:
        server.terminate()
        server.wait(timeout=10)
    at_goal_rate = runs[-1]
    result = {
        "command": "python benchmarks/api_load.py",
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "endpoint": "GET /users/{user_id}/next-basket", "users": len(users), "model_version": pointer.model_version,
        "server": "lake serve (ThreadingHTTPServer, embedded SQLite store)",
        "load_generator": f"vegeta {load_manifest()['tools']['vegeta']} attack (open loop, constant rate)",
        "runs": runs,
        "goal": {"p99_ms_at_most": GOAL_P99_MS, "at_rate": RATES[-1],
                 "met": at_goal_rate["p99_ms"] <= GOAL_P99_MS and at_goal_rate["errors"] == 0},
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
