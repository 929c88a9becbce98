"""The export_serving step at full scale: gold tables of the full Instacart shape (206,209
users, the 75,000 test users' baskets and the reorder scores of every product of their prior
orders) exported to the embedded serving store, timed by phase.

    python benchmarks/serving_export_full.py [--source /tmp/instacart_full] [--lake-root DIR]

The gold tables are built from a full-scale dataset (`lake generate --scale full --seed 1`,
made first when --source has no orders.csv) with DuckDB: the candidates are the real
(user, product) pairs of the test users' prior orders, their probabilities and baskets are
drawn from a fixed seed (the model does not matter to the export, the shape does). They are
written as Delta tables with deltalake, partitioned by model version like the job's. Two
model versions are exported one after the other (the second into a store holding the first).
The machine is shared: the load average and the machine's CPU use during each export are
recorded beside the figures. Writes benchmarks/results/serving_export_full.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
from deltalake import write_deltalake

from instacart_lake.context import Lake
from instacart_lake.jobs.export_serving import run_export_serving
from instacart_lake.locations import uri_to_path
from instacart_lake.serving import open_serving_store
from instacart_lake.serving.factory import embedded_store_path

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "benchmarks" / "results" / "serving_export_full.json"
VERSIONS = ("reorder-20260101-120000-full0001", "reorder-20260102-120000-full0002")
BASKET_THRESHOLD = 0.4



def ensure_source(source: Path) -> None:
    if not (source / "orders.csv").exists():
        subprocess.run([sys.executable, "-m", "instacart_lake.cli", "generate", "--scale", "full", "--seed", "1",
                        "--out", str(source)], check=True)


def gold_tables(source: Path, seed: int) -> dict:
    """Arrow tables: products, aisles, departments, and one model version's scores and baskets."""
    con = duckdb.connect()
    con.execute(f"SELECT setseed({seed / 100})")
    con.execute(f"CREATE VIEW orders AS SELECT * FROM read_csv_auto('{source}/orders.csv')")
    con.execute("CREATE VIEW prior AS SELECT order_id, product_id "
                f"FROM read_csv_auto('{source}/order_products__prior.csv')")
    con.execute("""CREATE TABLE scores AS
        SELECT DISTINCT o.user_id::INT AS user_id, p.product_id::INT AS product_id
        FROM prior p JOIN orders o USING (order_id)
        WHERE o.user_id IN (SELECT user_id FROM orders WHERE eval_set = 'test')""")
    con.execute("CREATE TABLE probabilities AS SELECT user_id, product_id, pow(random(), 3) AS probability FROM scores")
    baskets = con.execute(f"""
        SELECT t.order_id::INT AS order_id, t.user_id::INT AS user_id,
               coalesce(list(s.product_id ORDER BY s.probability DESC)
                        FILTER (WHERE s.probability >= {BASKET_THRESHOLD}), []::INT[]) AS products,
               random() < 0.2 AS includes_none, 0.2 + random() * 0.6 AS expected_f1
        FROM orders t LEFT JOIN probabilities s USING (user_id)
        WHERE t.eval_set = 'test' GROUP BY t.order_id, t.user_id""").fetch_arrow_table()
    scores = con.execute("SELECT user_id, product_id, probability FROM probabilities").fetch_arrow_table()
    tables = {name: con.execute(f"SELECT * FROM read_csv_auto('{source}/{name}.csv')").fetch_arrow_table()
              for name in ("products", "aisles", "departments")}
    return {**tables, "scores": scores, "baskets": baskets}


def with_version(table, version: str):
    return table.append_column("model_version", pa.array([version] * table.num_rows))


def write_lake(lake: Lake, source: Path) -> dict:
    counts = {}
    for index, version in enumerate(VERSIONS):
        tables = gold_tables(source, seed=index + 1)
        if index == 0:
            for name in ("products", "aisles", "departments"):
                write_deltalake(uri_to_path(lake.locations.table_uri("clean", name)), tables[name])
        for name, key in (("next_basket", "baskets"), ("reorder_scores", "scores")):
            write_deltalake(uri_to_path(lake.locations.table_uri("curated", name)), with_version(tables[key], version),
                            mode="append", partition_by=["model_version"])
        counts[version] = {"test_users": tables["baskets"].num_rows, "reorder_scores": tables["scores"].num_rows,
                           "products": tables["products"].num_rows,
                           "users": int(duckdb.sql(f"SELECT count(DISTINCT user_id) FROM "
                                                   f"read_csv_auto('{source}/orders.csv')").fetchone()[0])}
    return counts


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def timed_export(lake: Lake, version: str) -> dict:
    load_before = os.getloadavg()
    busy_before, total_before = cpu_times()
    own_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    pointer = run_export_serving(lake, open_serving_store(lake), version)
    seconds = time.perf_counter() - started
    busy_after, total_after = cpu_times()
    own_after = resource.getrusage(resource.RUSAGE_SELF)
    own_cpu = (own_after.ru_utime - own_before.ru_utime) + (own_after.ru_stime - own_before.ru_stime)
    return {"model_version": version, "seconds": round(seconds, 1), "users": pointer.users,
            "products": pointer.products, "items_per_second": round((pointer.users + pointer.products) / seconds),
            "export_cpu_seconds": round(own_cpu, 1),
            "machine_cpu_busy_percent": round(100 * (busy_after - busy_before) / (total_after - total_before), 1),
            "load_average_before": [round(value, 2) for value in load_before],
            "load_average_after": [round(value, 2) for value in os.getloadavg()]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=Path("/tmp/instacart_full"))
    parser.add_argument("--lake-root", type=Path, default=Path("/tmp/serving_export_full_lake"))
    args = parser.parse_args()
    ensure_source(args.source)
    shutil.rmtree(args.lake_root, ignore_errors=True)
    lake = Lake.from_environment(root=str(args.lake_root), profile="local")
    started = time.perf_counter()
    counts = write_lake(lake, args.source)
    build_seconds = time.perf_counter() - started
    exports = [timed_export(lake, version) for version in VERSIONS]
    store = embedded_store_path(lake)
    result = {
        "command": "python benchmarks/serving_export_full.py",
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source": str(args.source), "lake_root": str(args.lake_root),
        "gold_tables": counts, "gold_tables_build_seconds": round(build_seconds, 1),
        "store": "embedded (SQLite, WAL)", "exports": exports,
        "store_bytes_after_both": store.stat().st_size + sum(path.stat().st_size for path in
                                                             store.parent.glob(f"{store.name}-*")),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
