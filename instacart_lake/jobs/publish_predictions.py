"""Publish one model version's scores as the gold tables reorder_scores and next_basket.

Reads the scoring job's CSV files of the inference set, builds both tables
(instacart_lake.transforms.gold), checks them with the gold DQDL rulesets (every inference
candidate scored once, every test order given exactly one basket), then replaces the model
version's partition of each table. Publishing the same model version again gives the same
rows (scored_at aside), so a rerun of the scoring is idempotent.

The two tables publish a model version together or not at all: reorder_scores is committed
first, next_basket last, and a model version is published once next_basket holds it
(transforms.gold.PUBLISHED_BY; every reader of the gold tables reads published versions
only). A run killed between the two commits (the failpoint gold.between_tables) leaves
reorder_scores with a version that is not published; the next publication removes it in the
same commit that adds its own version.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from py4j.protocol import Py4JJavaError
from pyspark import StorageLevel
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from instacart_lake import failpoints
from instacart_lake.context import Lake
from instacart_lake.delta import DeltaTableIO
from instacart_lake.errors import InputError, QualityGateFailed
from instacart_lake.jobs.curated_to_ml import CANDIDATES_TABLE, SET_COLUMN
from instacart_lake.jobs.quality_gate import (
    RULESETS_DIR,
    GatedTableRun,
    evaluate_gate,
    gate_failure,
    measured_row_count,
    stop_failures,
)
from instacart_lake.registration import register_delta_table
from instacart_lake.transforms.gold import (
    GOLD_GRAINS,
    PARTITION_COLUMN,
    PUBLISHED_BY,
    SCORES_SCHEMA,
    next_baskets,
    reorder_scores,
)
from instacart_lake.transforms.ml_sets import INFERENCE

JOB_NAME = "publish_predictions"
BETWEEN_TABLES = "gold.between_tables"


def read_scores(spark: SparkSession, scores_uri: str, model_version: str) -> DataFrame:
    """The scoring job's CSV files (header order_id, product_id, probability, model_version),
    parsed once and cached: the caller unpersists them. A malformed file or rows of another
    model version are an input error."""
    scores = (spark.read.csv(scores_uri, header=True, schema=SCORES_SCHEMA, mode="FAILFAST")
              .persist(StorageLevel.MEMORY_AND_DISK))
    try:
        versions = [row[0] for row in scores.select("model_version").distinct().limit(2).collect()]
    except (Py4JJavaError, PySparkException) as error:  # FAILFAST fails the job on a malformed row
        scores.unpersist()
        raise InputError(f"{scores_uri}: not the scoring job's CSV output ({error})") from error
    if versions != [model_version]:
        scores.unpersist()
        raise InputError(f"{scores_uri}: expected scores of model version {model_version}, found {versions}")
    return scores


def run_publish_predictions(spark: SparkSession, lake: Lake, run_id: str, model_version: str,
                            scores_uri: str, rulesets_dir: Path = RULESETS_DIR / "gold") -> list[GatedTableRun]:
    """Publish the scores at `scores_uri` (the inference set scored by `model_version`)."""
    table_io = DeltaTableIO(spark)
    locations = lake.locations
    orders = table_io.read(locations.table_uri("clean", "orders"))
    inference_candidates = (table_io.read(locations.table_uri("ml", CANDIDATES_TABLE))
                            .where(F.col(SET_COLUMN) == INFERENCE))
    scores = read_scores(spark, scores_uri, model_version)
    scored_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
    tables = {
        "reorder_scores": reorder_scores(scores, orders, scored_at),
        "next_basket": next_baskets(scores, orders, model_version, partitions),
    }
    cached = [scores, *(frame.persist(StorageLevel.MEMORY_AND_DISK) for frame in tables.values())]
    try:
        results = evaluate_gate(spark, lake, table_io, JOB_NAME, run_id, tables, rulesets_dir,
                                {"orders": orders, "inference_candidates": inference_candidates})
        failed = stop_failures(results)
        if failed:
            raise QualityGateFailed(gate_failure(
                f"data-quality gate failed, model version {model_version} not published", failed))
        published = set(_model_versions(table_io, locations.table_uri("curated", PUBLISHED_BY)))
        runs = []
        for name in sorted(tables, key=lambda name: name == PUBLISHED_BY):
            frame, uri = tables[name], locations.table_uri("curated", name)
            if runs:
                failpoints.reach(BETWEEN_TABLES)
            unpublished = [] if name == PUBLISHED_BY else sorted(
                set(_model_versions(table_io, uri)) - published - {model_version})
            version = table_io.write(frame, uri, mode="overwrite", replace_partitions=True,
                                     partition_by=[PARTITION_COLUMN], remove_partitions=unpublished,
                                     run_id=run_id, job_name=JOB_NAME)
            register_delta_table(lake, "curated", name, frame.schema, GOLD_GRAINS[name],
                                 partition_keys=(PARTITION_COLUMN,))
            runs.append(GatedTableRun(name, measured_row_count(results[name]), version, results[name]))
        return runs
    finally:
        for frame in cached:
            frame.unpersist()


def _model_versions(table_io: DeltaTableIO, uri: str) -> list[str]:
    """The model versions of a gold table's partitions (none before its first commit)."""
    if not table_io.exists(uri):
        return []
    return [row[0] for row in table_io.read(uri).select(PARTITION_COLUMN).distinct().collect()]
