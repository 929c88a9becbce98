"""Job 2, clean to curated: the four Silver feature tables, behind their quality gate.

The features are computed once (build_feature_tables shares one (user, product)
aggregate and caches it), checked by each table's DQDL ruleset, and only then written,
each as one Delta commit that replaces the table, and registered in the catalog.

The small tables are cached for the gate's passes and the write. up_features is not: it is
the cached aggregate joined to the broadcast user counts, so each pass recomputes it for
less than caching its 13 M rows (at full scale) a second time would cost.
"""

from __future__ import annotations

from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import SparkSession

from instacart_lake.context import Lake
from instacart_lake.delta import DeltaTableIO
from instacart_lake.errors import QualityGateFailed
from instacart_lake.jobs.quality_gate import (
    RULESETS_DIR,
    GatedTableRun,
    evaluate_gate,
    gate_failure,
    measured_row_count,
    stop_failures,
)
from instacart_lake.registration import register_delta_table
from instacart_lake.transforms.features import FEATURE_GRAINS, build_feature_tables

JOB_NAME = "clean_to_curated"
UNCACHED_TABLES = frozenset({"up_features"})


def run_clean_to_curated(spark: SparkSession, lake: Lake, run_id: str,
                         rulesets_dir: Path = RULESETS_DIR / "curated") -> list[GatedTableRun]:
    table_io = DeltaTableIO(spark)
    clean = {name: table_io.read(lake.locations.table_uri("clean", name))
             for name in ("orders", "order_products__prior", "products")}
    tables = build_feature_tables(clean["orders"], clean["order_products__prior"])
    cached = [frame.persist(StorageLevel.MEMORY_AND_DISK) for name, frame in tables.items()
              if name not in UNCACHED_TABLES]
    try:
        results = evaluate_gate(spark, lake, table_io, JOB_NAME, run_id, tables, rulesets_dir,
                                {**clean, **tables})
        failed = stop_failures(results)
        if failed:
            raise QualityGateFailed(gate_failure("data-quality gate failed, no feature table written", failed))
        runs = []
        for name, frame in tables.items():
            version = table_io.write(frame, lake.locations.table_uri("curated", name), mode="overwrite",
                                     run_id=run_id, job_name=JOB_NAME)
            register_delta_table(lake, "curated", name, frame.schema, FEATURE_GRAINS[name])
            runs.append(GatedTableRun(name, measured_row_count(results[name]), version, results[name]))
        return runs
    finally:
        for frame in cached:
            frame.unpersist()
