"""Time the Spark feature tables (job 2's transforms) against the DuckDB reference.

Both engines read the same clean Parquet inputs, compute the four feature tables (and,
with --with-candidates, the model candidates) and write them as Parquet. Inputs are either
a folder of clean Parquet (<folder>/<table>.parquet or <folder>/<table>/*.parquet, for
orders, order_products__prior and, with candidates, order_products__train and products)
or a synthetic sample generated here with a seeded numpy generator, shaped like the real
data (random order ids, about 10 lines per order, about 16 orders per user, 40% of a
user's lines distinct products).

Timings on a shared machine are noisy: use --repeat and read the best time. CPU seconds
(Spark's JVM, read from /proc, so Linux only; this process for DuckDB) are printed too:
they suffer less from other programs on the machine. The Spark session's start and the
first run's JIT warm-up are real costs of a job run; the best time leaves the warm-up out.

    python benchmarks/features_vs_duckdb.py --users 16000            # about 2.5 M prior lines
    python benchmarks/features_vs_duckdb.py --input /path/to/clean_parquet --repeat 3
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from instacart_lake.reference import duckdb_features
from instacart_lake.runtime import build_local_spark
from instacart_lake.schemas import SOURCE_TABLES
from instacart_lake.transforms.features import build_feature_tables
from instacart_lake.transforms.ml_sets import build_candidates

FEATURE_INPUTS = ("orders", "order_products__prior")
CANDIDATE_INPUTS = ("order_products__train", "products")
PRODUCTS = 49_688
TRAIN_USER_SHARE = 131_209 / 206_209

_ARROW_TYPES = {"int": pa.int32(), "string": pa.string()}


def _arrow_table(name: str, columns: dict[str, np.ndarray], nulls: dict | None = None) -> pa.Table:
    table = SOURCE_TABLES[name]
    arrays = [pa.array(columns[c.name], type=_ARROW_TYPES[c.type], mask=(nulls or {}).get(c.name))
              for c in table.columns]
    return pa.Table.from_arrays(arrays, names=list(table.column_names))


def _positions_within(groups: np.ndarray) -> np.ndarray:
    """1-based position of each element within its run of equal values (groups sorted)."""
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    run_lengths = np.diff(np.r_[starts, groups.size])
    return np.arange(groups.size) - np.repeat(starts, run_lengths) + 1


def _order_lines(rng, order_index, order_user, order_number, basket_mean, pool_start,
                 pool_size, pool, popularity):
    """Lines of the given orders: products from the user's pool of favourites (skewed to the
    first ones) or, one time in seven, from the global popularity; one line per product and
    order. Returns the line's order index, user index, product, cart position, and whether
    the user bought the product in an earlier order of the same orders."""
    basket = np.clip(1 + rng.poisson(basket_mean, size=order_index.size), 1, 145)
    line_order = np.repeat(order_index, basket)
    line_user = np.repeat(order_user, basket)
    from_pool = rng.random(line_order.size) < 0.86
    pick = (rng.random(line_order.size) ** 1.7 * pool_size[line_user]).astype(np.int64)
    product = np.where(from_pool, pool[pool_start[line_user] + pick],
                       rng.choice(PRODUCTS, size=line_order.size, p=popularity) + 1)
    _, first = np.unique(line_order * (PRODUCTS + 1) + product, return_index=True)
    line_order, line_user, product = line_order[first], line_user[first], product[first]
    cart_rank = np.lexsort((rng.random(line_order.size), line_order))
    line_order, line_user, product = line_order[cart_rank], line_user[cart_rank], product[cart_rank]
    add_to_cart = _positions_within(line_order)
    by_pair = np.lexsort((order_number[line_order], product, line_user))
    pair_key = line_user[by_pair] * (PRODUCTS + 1) + product[by_pair]
    reordered = np.empty(line_order.size, dtype=np.int32)
    reordered[by_pair] = _positions_within(pair_key) > 1
    return line_order, line_user, product, add_to_cart, reordered


def synthesize(users: int, seed: int) -> dict[str, pa.Table]:
    """Clean tables for `users` users (orders, prior and train lines, products)."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / (np.arange(PRODUCTS) + 8.0)
    popularity /= popularity.sum()
    prior_counts = np.clip(3 + rng.negative_binomial(1.3, 1.3 / 13.9, size=users), 3, 99)
    order_user = np.repeat(np.arange(users), prior_counts + 1)
    order_number = _positions_within(order_user)
    is_last = order_number == prior_counts[order_user] + 1
    is_train_user = rng.random(users) < TRAIN_USER_SHARE
    eval_set = np.where(is_last, np.where(is_train_user[order_user], "train", "test"), "prior")
    peaks = rng.choice([7, 14, 21, 30], size=order_user.size)
    days = np.where(rng.random(order_user.size) < 0.35, peaks, rng.integers(0, 31, order_user.size))
    order_id = rng.permutation(order_user.size) + 1
    orders = _arrow_table("orders", {
        "order_id": order_id, "user_id": order_user + 1, "eval_set": eval_set,
        "order_number": order_number, "order_dow": rng.integers(0, 7, order_user.size),
        "order_hour_of_day": rng.integers(0, 24, order_user.size),
        "days_since_prior_order": days,
    }, nulls={"days_since_prior_order": order_number == 1})

    pool_size = np.maximum(3, (prior_counts * 3.2).astype(np.int64))
    pool_start = np.r_[0, np.cumsum(pool_size)[:-1]]
    pool = rng.choice(PRODUCTS, size=int(pool_size.sum()), p=popularity) + 1
    tables = {"orders": orders}
    for name, selected, basket_mean in (("order_products__prior", eval_set == "prior", 9.1),
                                        ("order_products__train", eval_set == "train", 9.6)):
        index = np.flatnonzero(selected)
        line_order, line_user, product, add_to_cart, reordered = _order_lines(
            rng, index, order_user[index], order_number, basket_mean, pool_start, pool_size,
            pool, popularity)
        pair_key = line_user * (PRODUCTS + 1) + product
        if name == "order_products__prior":
            prior_pairs = np.unique(pair_key)
        else:
            reordered = np.isin(pair_key, prior_pairs).astype(np.int32)
        lines = _arrow_table(name, {"order_id": order_id[line_order], "product_id": product,
                                    "add_to_cart_order": add_to_cart, "reordered": reordered})
        tables[name] = lines.sort_by([("order_id", "ascending"), ("add_to_cart_order", "ascending")])
    product_ids = np.arange(1, PRODUCTS + 1)
    tables["products"] = _arrow_table("products", {
        "product_id": product_ids, "product_name": np.char.add("product ", product_ids.astype(str)),
        "aisle_id": 1 + product_ids % 134, "department_id": 1 + product_ids % 21})
    return tables


def input_path(folder: Path, name: str) -> Path:
    for candidate in (folder / f"{name}.parquet", folder / name):
        if candidate.exists():
            return candidate
    sys.exit(f"{folder}: no {name}.parquet file or {name}/ folder")


def run_spark(spark, inputs: dict[str, Path], output: Path, with_candidates: bool) -> None:
    frames = {name: spark.read.schema(SOURCE_TABLES[name].spark_schema()).parquet(str(path))
              for name, path in inputs.items()}
    tables = build_feature_tables(frames["orders"], frames["order_products__prior"])
    if with_candidates:
        tables["candidates"] = build_candidates(
            frames["orders"], frames["order_products__train"], frames["products"], **tables)
    for name, table in tables.items():
        table.write.mode("overwrite").parquet(str(output / name))
    spark.catalog.clearCache()


def run_duckdb(inputs: dict[str, Path], output: Path, threads: int, with_candidates: bool) -> None:
    connection = duckdb_features.connect(inputs, threads=threads)
    duckdb_features.create_feature_tables(connection)
    names = list(duckdb_features.FEATURE_TABLES)
    if with_candidates:
        duckdb_features.create_candidates(connection)
        names.append("candidates")
    output.mkdir(parents=True, exist_ok=True)
    for name in names:
        connection.execute(f"COPY {name} TO '{(output / name).as_posix()}.parquet' (FORMAT parquet)")
    connection.close()


def python_cpu_seconds() -> float:
    """CPU seconds of this process (DuckDB runs in it)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def jvm_cpu_clock(spark):
    """A function giving the CPU seconds of Spark's JVM (read from /proc: Linux only)."""
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    ticks_per_second = os.sysconf("SC_CLK_TCK")

    def jvm_cpu_seconds() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks_per_second

    return jvm_cpu_seconds


def timed(cpu_clock, function, *args) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of function(*args)."""
    started, cpu_started = time.perf_counter(), cpu_clock()
    function(*args)
    return time.perf_counter() - started, cpu_clock() - cpu_started


def output_rows(output: Path) -> dict[str, int]:
    """Rows of each table written under `output` (a Parquet file or a folder of them)."""
    return {path.name.removesuffix(".parquet"): ds.dataset(path, format="parquet").count_rows()
            for path in sorted(output.iterdir())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, help="folder of clean Parquet tables")
    parser.add_argument("--users", type=int, default=16_000,
                        help="users of the synthetic sample when no --input (default 16000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="runs per engine (default 2)")
    parser.add_argument("--with-candidates", action="store_true",
                        help="also build the model candidates")
    parser.add_argument("--work-dir", type=Path, help="where inputs and outputs go (default: a temporary folder)")
    parser.add_argument("--driver-memory", default="8g")
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--duckdb-threads", type=int, default=2)
    args = parser.parse_args(argv)

    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="features-bench-"))
    names = FEATURE_INPUTS + (CANDIDATE_INPUTS if args.with_candidates else ())
    if args.input:
        inputs = {name: input_path(args.input, name) for name in names}
    else:
        started = time.perf_counter()
        tables = synthesize(args.users, args.seed)
        inputs = {}
        for name in names:
            inputs[name] = work_dir / "input" / f"{name}.parquet"
            inputs[name].parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(tables[name], inputs[name])
        print(f"synthetic input: {args.users:,} users, {tables['orders'].num_rows:,} orders, "
              f"{tables['order_products__prior'].num_rows:,} prior lines "
              f"({time.perf_counter() - started:.1f} s)")

    started = time.perf_counter()
    spark = build_local_spark("features-benchmark", args.driver_memory, args.shuffle_partitions)
    print(f"spark session: {time.perf_counter() - started:.1f} s (not counted)")

    clocks = {"spark": jvm_cpu_clock(spark), "duckdb": python_cpu_seconds}
    seconds: dict[str, list[tuple[float, float]]] = {"spark": [], "duckdb": []}
    for run in range(args.repeat):
        seconds["spark"].append(timed(
            clocks["spark"], run_spark, spark, inputs, work_dir / "spark", args.with_candidates))
        shutil.rmtree(work_dir / "duckdb", ignore_errors=True)
        seconds["duckdb"].append(timed(
            clocks["duckdb"], run_duckdb, inputs, work_dir / "duckdb", args.duckdb_threads,
            args.with_candidates))
        print(f"run {run + 1}: " + ", ".join(
            f"{engine} {times[-1][0]:.1f} s (cpu {times[-1][1]:.1f} s)"
            for engine, times in seconds.items()))
    spark.stop()
    counts = {engine: output_rows(work_dir / engine) for engine in seconds}

    print()
    print(f"{'table':<18}{'spark rows':>14}{'duckdb rows':>14}")
    for name, count in counts["spark"].items():
        print(f"{name:<18}{count:>14,}{counts['duckdb'][name]:>14,}")
    print()
    print(f"{'engine':<10}{'best s':>10}{'median s':>10}{'best cpu s':>12}")
    best = {engine: (min(t[0] for t in times), min(t[1] for t in times))
            for engine, times in seconds.items()}
    for engine, times in seconds.items():
        median = statistics.median(t[0] for t in times)
        print(f"{engine:<10}{best[engine][0]:>10.1f}{median:>10.1f}{best[engine][1]:>12.1f}")
    print(f"\nspark / duckdb (best): {best['spark'][0] / best['duckdb'][0]:.2f}x wall, "
          f"{best['spark'][1] / best['duckdb'][1]:.2f}x cpu")
    if not args.work_dir:
        shutil.rmtree(work_dir)
    if counts["spark"] != counts["duckdb"]:
        print("row counts differ between the engines", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
