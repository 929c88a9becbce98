"""Job 3, curated to ml: the ML-ready sets.

Candidates (every product of a user's prior orders, for users whose last order is train
or test) with all features and, for train users, the label. Train users are split into
training and validation by user; test users' candidates are the inference set. The sets
are written twice: as CSV channels in the layout SageMaker's XGBoost container reads
(label first, no header, for train and validation; order_id and product_id first for the
sets that are scored: inference, and validation_ids, the validation rows keyed for the
model's evaluation), and as one
Delta table, `ml_candidates`, for analysts and as the versioned record of what a model was
trained on.
"""

from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from instacart_lake.context import Lake
from instacart_lake.delta import DeltaTableIO
from instacart_lake.registration import register_delta_table
from instacart_lake.transforms.features import FEATURE_SCHEMAS
from instacart_lake.transforms.ml_sets import (
    build_candidates,
    select_inference_layout,
    select_inference_set,
    select_training_layout,
    split_train_validation,
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
    ).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        training, validation = split_train_validation(candidates)
        sets = {"train": training, "validation": validation, "inference": select_inference_set(candidates)}
        counts = _write_channels(sets, lake)
        labelled = _with_set_names(sets)
        version = table_io.write(labelled, locations.table_uri("ml", CANDIDATES_TABLE), mode="overwrite",
                                 run_id=run_id, job_name=JOB_NAME, partition_by=[SET_COLUMN])
        register_delta_table(lake, "ml", CANDIDATES_TABLE, labelled.schema,
                             "one row per candidate (user and product of the user's prior orders) "
                             "with its features, label and set", partition_keys=(SET_COLUMN,))
    finally:
        candidates.unpersist()
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


def _with_set_names(sets: dict[str, DataFrame]) -> DataFrame:
    named = [frame.withColumn(SET_COLUMN, F.lit(name)) for name, frame in sets.items()]
    union = named[0]
    for frame in named[1:]:
        union = union.unionByName(frame)
    return union
