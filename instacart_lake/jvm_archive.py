"""A class data sharing archive for the local Spark JVM: the classes a job loads (Spark, Delta,
the DQDL gate's, s3a's) parsed and verified once, by `make setup`, then mapped by every later
JVM instead of being read from the jars again. Each job of `lake run`, and each job process of
the test suite, starts a JVM of its own, and loading classes is most of a new session's start
and of its first query (benchmarks/jvm_start.py measures both with and without the archive).

An archive belongs to one JDK and one class path. Its file name is a digest of both (the java
that spark-submit runs, PySpark's jars, the jars of versions.toml), so a new JDK or a new jar
means a new archive, and a stale one is never passed to a JVM. Without an archive a session
starts as before; Glue starts its own JVMs and never reads this.

`python -m instacart_lake.jvm_archive` (run by `make setup` after the jars) makes the archive
when there is none: it runs a small workload in a session that writes the classes it loaded
to the archive when its JVM exits.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pyspark

from instacart_lake.jars import jars_dir, spark_jars

ARCHIVE_PREFIX = "spark-classes-"


def java_executable() -> Path | None:
    """The java that spark-submit runs: $JAVA_HOME/bin/java, else java on PATH."""
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home, "bin", "java")) if home else shutil.which("java")
    return Path(found).resolve() if found and Path(found).exists() else None


def class_path_jars() -> list[Path]:
    """Every jar a local session's JVM has on its class path: versions.toml's, then PySpark's."""
    return [*spark_jars(), *sorted(Path(pyspark.__file__).parent.joinpath("jars").glob("*.jar"))]


def archive_path(folder: Path | None = None) -> Path | None:
    """Where the archive of this JDK and class path is (whether made yet or not); None
    without a java to run."""
    java = java_executable()
    if java is None:
        return None
    digest = hashlib.sha256()
    for path in [java, java.parent.parent / "lib" / "modules", *class_path_jars()]:
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return (folder or jars_dir()) / f"{ARCHIVE_PREFIX}{digest.hexdigest()[:16]}.jsa"


def java_options(dump_to: Path | None = None) -> list[str]:
    """The JVM options of a local session: map the archive when it has been made, or, with
    `dump_to`, write one there when the JVM exits."""
    if dump_to is not None:  # without the warning of every class it cannot archive (signed, old or generated)
        return [f"-XX:ArchiveClassesAtExit={dump_to}", "-Xlog:cds=off,cds+dynamic=off"]
    archive = archive_path()
    return [f"-XX:SharedArchiveFile={archive}"] if archive is not None and archive.is_file() else []


def _exercise(spark, work: Path) -> None:
    """The kinds of work a job does, on a few rows: read text and CSV, parse, join, group,
    window, a pandas UDF, Delta writes and a merge, the history, a DQDL gate."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from instacart_lake.delta import DeltaTableIO
    from instacart_lake.dq import evaluate, parse_ruleset
    from instacart_lake.transforms.raw_to_clean import normalize_name

    source = work / "source.csv"
    source.write_text("order_id,name\n" + "".join(f"{n},name {n % 7}\n" for n in range(1, 200)))
    rows = spark.read.csv(str(source), header=True, inferSchema=False).select(
        F.col("order_id").cast("int").alias("order_id"), normalize_name(F.col("name")).alias("name"))
    lines = spark.read.text(str(source)).select(F.col("value"), F.col("_metadata.file_path"))
    joined = rows.join(F.broadcast(rows.groupBy("name").agg(F.count("*").alias("copies"))), "name")
    ranked = joined.withColumn("rank", F.row_number().over(Window.partitionBy("name").orderBy("order_id")))
    table_io = DeltaTableIO(spark)
    uri = (work / "table").as_uri()
    table_io.write(ranked, uri, mode="overwrite", run_id="archive", job_name="archive", partition_by=["rank"])
    table_io.merge_by_key(ranked.where(F.col("rank") == 1), uri, keys=["order_id"], run_id="archive",
                          job_name="archive")
    table_io.history(uri)
    ruleset = parse_ruleset('Rules = [ RowCount > 0, IsPrimaryKey "order_id", '
                            'ColumnValues "rank" > 0, ReferentialIntegrity "name" "lines.value" = 0.0 ]', "archive")
    evaluate(ruleset, table_io.read(uri), {"lines": lines})
    table_io.read(uri).toPandas()
    rows.write.mode("overwrite").csv(str(work / "csv"))


def make_archive(archive: Path) -> None:
    """Run the workload in a session whose JVM writes the classes it loaded to `archive` as it
    exits (the JVM exits when this process closes its standard input)."""
    from pyspark import SparkContext

    from instacart_lake.runtime import build_local_spark

    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(f".{archive.name}.{os.getpid()}")
    with tempfile.TemporaryDirectory(prefix="jvm-archive-") as work:
        spark = build_local_spark("jvm-archive", driver_memory="2g", shuffle_partitions=2,
                                  dump_classes_to=partial)
        try:
            _exercise(spark, Path(work))
        finally:
            spark.stop()
            jvm = SparkContext._gateway.proc
            jvm.stdin.close()
            jvm.wait(timeout=300)
    if not partial.is_file() or partial.stat().st_size == 0:
        raise RuntimeError(f"the JVM wrote no class archive to {partial}")
    partial.replace(archive)


def main(argv: list[str]) -> int:
    if argv:
        print("usage: python -m instacart_lake.jvm_archive   (makes the local JVM's class archive once)",
              file=sys.stderr)
        return 2
    archive = archive_path()
    if archive is None:
        print("error: no java to run: set JAVA_HOME or put java on PATH", file=sys.stderr)
        return 1
    if not archive.is_file():
        for stale in archive.parent.glob(f"{ARCHIVE_PREFIX}*.jsa"):
            stale.unlink()
        try:
            make_archive(archive)
        except Exception as error:  # a failed Spark run or JVM: one line, not its stack
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            print(f"error: the JVM class archive could not be made: {first_line}", file=sys.stderr)
            return 1
    print(f"JVM class archive: {archive} ({archive.stat().st_size / 2**20:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
