"""Evaluate a model version on the validation users (instacart_lake.ml.evaluation).

The scoring job scores the validation set keyed by order and product; here those scores meet
the labels of the `ml_candidates` table, the baseline of the user's last prior order, and,
for generated data, the generator's ground truth (the oracle). The validation set is small
(a fifth of the train users' candidates) and is evaluated on the driver.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from instacart_lake.context import Lake
from instacart_lake.delta import DeltaTableIO
from instacart_lake.errors import InputError
from instacart_lake.jobs.curated_to_ml import CANDIDATES_TABLE, SET_COLUMN
from instacart_lake.jobs.publish_predictions import read_scores
from instacart_lake.ml.evaluation import Evaluation, evaluate_validation, rank_validation
from instacart_lake.ml.evaluation_curves import evaluation_curves
from instacart_lake.transforms.baselines import last_prior_order_reorders
from instacart_lake.transforms.ml_sets import VALIDATION


def read_ground_truth(path: Path, order_ids: np.ndarray) -> pd.DataFrame:
    """The rows of the generator's ground_truth.csv for the given orders."""
    with duckdb.connect() as connection:
        connection.execute("SET enable_progress_bar = false")
        connection.register("wanted_orders", pa.table({"order_id": pa.array(order_ids, pa.int32())}))
        return connection.execute(
            "SELECT order_id, product_id, probability, in_order "
            "FROM read_csv(?, header = true, auto_detect = false, columns = {"
            "'order_id': 'INTEGER', 'user_id': 'INTEGER', 'eval_set': 'VARCHAR', "
            "'product_id': 'INTEGER', 'probability': 'DOUBLE', 'in_order': 'INTEGER'}) "
            "SEMI JOIN wanted_orders USING (order_id)",
            [str(path)],
        ).df()


def evaluate_model_version(spark: SparkSession, lake: Lake, model_version: str, validation_scores_uri: str,
                           ground_truth: Path | None = None) -> tuple[Evaluation, dict]:
    """Evaluate the scores at `validation_scores_uri`; the oracle only when `ground_truth`
    (a generator's ground_truth.csv) is given. Returns the evaluation and its curves
    (instacart_lake.ml.evaluation_curves)."""
    table_io = DeltaTableIO(spark)
    locations = lake.locations
    labels = (table_io.read(locations.table_uri("ml", CANDIDATES_TABLE))
              .where(F.col(SET_COLUMN) == VALIDATION)
              .select("order_id", "product_id", "label"))
    scores = read_scores(spark, validation_scores_uri, model_version)
    try:
        validation = (labels.join(scores.select("order_id", "product_id", "probability"),
                                  on=["order_id", "product_id"], how="left").toPandas())
    finally:
        scores.unpersist()
    unscored = int(validation["probability"].isna().sum())
    if unscored:
        raise InputError(f"{validation_scores_uri}: {unscored} of {len(validation)} validation candidates "
                         f"have no score from model version {model_version}")
    baseline = last_prior_order_reorders(
        table_io.read(locations.table_uri("clean", "orders")),
        table_io.read(locations.table_uri("clean", "order_products__prior")),
    ).join(labels.select("order_id").distinct(), on="order_id", how="left_semi").toPandas()
    order_ids = validation["order_id"].unique()
    truth = read_ground_truth(ground_truth, order_ids) if ground_truth is not None else None
    baskets = rank_validation(validation)
    return (evaluate_validation(validation, baseline, truth, baskets=baskets),
            evaluation_curves(validation, baskets))
