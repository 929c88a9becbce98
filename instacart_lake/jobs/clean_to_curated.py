"""Job 2, clean to curated: the four Silver feature tables, behind their quality gate.

The features are computed once (build_feature_tables shares one (user, product)
aggregate and caches it), checked by each table's DQDL ruleset, and only then written,
each as one Delta commit that replaces the table, and registered in the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import SparkSession

from instacart_lake.context import Lake
from instacart_lake.delta import open_table_io
from instacart_lake.dq import RulesetResult
from instacart_lake.errors import QualityGateFailed
from instacart_lake.jobs.quality_gate import (
    RULESETS_DIR,
    evaluate_gate,
    measured_row_count,
    rule_outcomes,
    stop_failures,
)
from instacart_lake.registration import register_delta_table
from instacart_lake.transforms.features import FEATURE_GRAINS, build_feature_tables

JOB_NAME = "clean_to_curated"


@dataclass
class FeatureTableRun:
    name: str
    rows_written: int | None
    version: int | None
    quality: RulesetResult

    def counts(self) -> dict:
        return {"rows_written": self.rows_written, "version": self.version,
                "quality_score": self.quality.score, "rules": rule_outcomes(self.quality)}


def run_clean_to_curated(spark: SparkSession, lake: Lake, run_id: str,
                         rulesets_dir: Path = RULESETS_DIR / "curated") -> list[FeatureTableRun]:
    table_io = open_table_io(spark)
    clean = {name: table_io.read(lake.locations.table_uri("clean", name))
             for name in ("orders", "order_products__prior", "products")}
    tables = build_feature_tables(clean["orders"], clean["order_products__prior"])
    cached = [frame.persist(StorageLevel.MEMORY_AND_DISK) for frame in tables.values()]
    try:
        results = evaluate_gate(spark, lake, table_io, JOB_NAME, run_id, tables, rulesets_dir,
                                {**clean, **tables})
        failed = stop_failures(results)
        if failed:
            raise QualityGateFailed("data-quality gate failed, no feature table written: " + "; ".join(failed))
        runs = []
        for name, frame in tables.items():
            version = table_io.write(frame, lake.locations.table_uri("curated", name), mode="overwrite",
                                     run_id=run_id, job_name=JOB_NAME)
            register_delta_table(lake, "curated", name, frame.schema, FEATURE_GRAINS[name])
            runs.append(FeatureTableRun(name, measured_row_count(results[name]), version, results[name]))
        return runs
    finally:
        for frame in cached:
            frame.unpersist()
