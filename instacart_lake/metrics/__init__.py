"""Metrics of the reorder prediction task."""

from instacart_lake.metrics.f1 import (
    NONE,
    OptimalPrediction,
    expected_f1_table,
    expected_f1_tables,
    mean_f1,
    optimal_prediction,
    optimal_predictions,
    optimal_set,
    order_f1,
)

__all__ = ["NONE", "OptimalPrediction", "expected_f1_table", "expected_f1_tables", "mean_f1",
           "optimal_prediction", "optimal_predictions", "optimal_set", "order_f1"]
