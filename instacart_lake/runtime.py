"""The Spark runtime: the GlueContext's session on Glue, a tuned local session elsewhere."""

from __future__ import annotations

import logging
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pyspark.sql import SparkSession

from instacart_lake import jvm_archive
from instacart_lake.aws_clients import s3a_settings
from instacart_lake.config import LakeConfig, spark_settings
from instacart_lake.jars import spark_jars

log = logging.getLogger(__name__)

LOG4J2_CONFIG = Path(__file__).with_name("log4j2.properties")

os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")  # pyspark.pandas asks for it when imported


@dataclass
class Runtime:
    """What a job runs on: a Spark session, and on Glue the GlueContext and Job for bookmarks."""

    spark: SparkSession
    glue_context: Any = None
    job: Any = None

    @property
    def on_glue(self) -> bool:
        return self.glue_context is not None

    def commit(self) -> None:
        """Commit the Glue job (advances bookmarks); a no-op locally, where the ledger does it."""
        if self.job is not None:
            self.job.commit()


def running_on_glue() -> bool:
    try:
        import awsglue.context  # noqa: F401  (present only in Glue and its docker image)
    except ImportError:
        return False
    return True


def build_local_spark(
    app_name: str = "instacart-lake",
    driver_memory: str = "8g",
    shuffle_partitions: int = 8,
    extra_conf: Mapping[str, str] | None = None,
    dump_classes_to: Path | None = None,
) -> SparkSession:
    """A local session with Glue 5.0's engines and tuned for a small machine (2 cores, 24 GB).

    The jars of versions.toml (Delta, Deequ, s3a) go on the JVM's class path from the folder
    `make setup` filled, so the session starts offline and copies no jar (on `spark.jars`,
    each session copied all 280 MB of them to its temporary folder: 2 s of every job's start).
    Delta is enabled as Glue enables it (lake.toml's
    `[spark.delta]`), with the settings every job sets on Glue too (`[spark.jobs]`). All cores,
    one JVM, AQE on, few shuffle partitions (Delta's snapshot state and file listings too), no
    UI, quiet logs, UTC. The JVM maps the class archive of instacart_lake.jvm_archive when
    setup has made it (or, with `dump_classes_to`, makes one there). Returns the active
    session if one exists.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    class_path = os.pathsep.join(str(jar) for jar in spark_jars())
    builder = (
        SparkSession.builder.appName(app_name)
        .master(os.environ.get("LAKE_SPARK_MASTER", "local[*]"))
        .config("spark.driver.extraClassPath", class_path)
        .config("spark.executor.extraClassPath", class_path)
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(shuffle_partitions))
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.adaptive.coalescePartitions.enabled", "true")
        .config("spark.sql.adaptive.skewJoin.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.sql.parquet.compression.codec", "snappy")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.extraJavaOptions", " ".join(shlex.quote(option) for option in [
            f"-Dlog4j2.configurationFile={LOG4J2_CONFIG.as_uri()}", "-XX:+UseG1GC",
            *jvm_archive.java_options(dump_classes_to)]))
        .config("spark.sql.warehouse.dir", os.path.join(os.environ.get("TMPDIR", "/tmp"), "instacart-lake-warehouse"))
        .config("spark.databricks.delta.snapshotPartitions", str(shuffle_partitions))
        # Delta's VACUUM lists a table in this many tasks (10,000 by default: a minute here)
        .config("spark.sql.sources.parallelPartitionDiscovery.parallelism", str(shuffle_partitions))
    )
    for key, value in {**spark_settings("delta"), **spark_settings("jobs"), **(extra_conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def get_runtime(job_name: str, arguments: dict[str, str], config: LakeConfig) -> Runtime:
    """The runtime for a job: on Glue the GlueContext's session and an initialised Job,
    locally a session built from the configuration."""
    if running_on_glue():
        from awsglue.context import GlueContext
        from awsglue.job import Job
        from pyspark.context import SparkContext

        glue_context = GlueContext(SparkContext.getOrCreate())
        job = Job(glue_context)
        job.init(job_name, arguments)
        spark = glue_context.spark_session
        for key, value in spark_settings("jobs").items():
            spark.conf.set(key, value)
        return Runtime(spark, glue_context, job)
    return Runtime(local_spark(config, job_name))


def local_spark(config: LakeConfig, app_name: str) -> SparkSession:
    """The local session of a profile: its memory and partitions, and on S3 Glue's Delta log
    store and s3a at the profile's endpoint."""
    extra = {**spark_settings("delta_on_s3"), **s3a_settings(config)} if config.on_s3 else {}
    return build_local_spark(app_name, config.spark_driver_memory, config.spark_shuffle_partitions, extra)
