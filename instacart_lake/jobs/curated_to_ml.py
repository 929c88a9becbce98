"""Job 3, curated to ml: the ML-ready sets.

Candidates (every product of a user's prior orders, for users whose last order is train
or test) with all features and, for train users, the label. Train users are split into
training and validation by user; test users' candidates are the inference set. The
candidates are written once, as the Delta table `ml_candidates` (partitioned by set), for
analysts and as the versioned record of what a model was trained on; the CSV channels in
the layout SageMaker's XGBoost container reads (label first, no header, for train and
validation; order_id and product_id first for the sets that are scored: inference, and
validation_ids, the validation rows keyed for the model's evaluation) are then read from
the version just written, so they hold exactly its rows and the candidates are neither
computed twice nor cached.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from instacart_lake.context import Lake
from instacart_lake.delta import DeltaTableIO
from instacart_lake.registration import register_delta_table
from instacart_lake.transforms.features import FEATURE_SCHEMAS
from instacart_lake.transforms.ml_sets import (
    ML_SETS,
    build_candidates,
    ml_set,
    select_inference_layout,
    select_training_layout,
)

JOB_NAME = "curated_to_ml"
CANDIDATES_TABLE = "ml_candidates"
SET_COLUMN = "ml_set"


def run_curated_to_ml(spark: SparkSession, lake: Lake, run_id: str) -> dict[str, dict]:
    """Write the sets; returns per set its rows, and the Delta versions read and written."""
    table_io = DeltaTableIO(spark)
    locations = lake.locations
    inputs = {
        **{name: ("clean", name) for name in ("orders", "order_products__train", "products")},
        **{name: ("curated", name) for name in FEATURE_SCHEMAS},
    }
    uris = {name: locations.table_uri(zone, name) for name, (zone, name) in inputs.items()}
    read_versions = {name: table_io.version(uri) for name, uri in uris.items()}
    frames = {name: table_io.read(uri) for name, uri in uris.items()}
    candidates = build_candidates(
        frames["orders"], frames["order_products__train"], frames["products"],
        **{name: frames[name] for name in FEATURE_SCHEMAS},
    ).withColumn(SET_COLUMN, ml_set())
    uri = locations.table_uri("ml", CANDIDATES_TABLE)
    version = table_io.write(candidates, uri, mode="overwrite", run_id=run_id, job_name=JOB_NAME,
                             partition_by=[SET_COLUMN])
    register_delta_table(lake, "ml", CANDIDATES_TABLE, candidates.schema,
                         "one row per candidate (user and product of the user's prior orders) "
                         "with its features, label and set", partition_keys=(SET_COLUMN,))
    written = table_io.read(uri, version)
    counts = _write_channels({name: written.where(F.col(SET_COLUMN) == name) for name in ML_SETS}, lake)
    return {
        "sets": {name: {"rows_written": rows} for name, rows in counts.items()},
        "read_versions": read_versions,
        "candidates_version": version,
    }


def _write_channels(sets: dict[str, DataFrame], lake: Lake) -> dict[str, int]:
    """Each set as CSV files in its channel folder (replaced); returns the rows per set.
    The validation set is written twice: labelled for training, keyed for scoring."""
    layouts = {
        "train": select_training_layout(sets["train"]),
        "validation": select_training_layout(sets["validation"]),
        "inference": select_inference_layout(sets["inference"]),
        "validation_ids": select_inference_layout(sets["validation"]),
    }
    for name, layout in layouts.items():
        layout.write.mode("overwrite").csv(lake.locations.ml_set_uri(name), header=False, nullValue="")
    return {name: frame.count() for name, frame in sets.items()}
