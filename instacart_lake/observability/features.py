"""Feature distributions of a run against the previous run: the curated feature tables read
with delta-rs at the versions each run wrote (its clean_to_curated stage records them), each
numeric feature as a histogram on shared bins, with the population stability index (PSI)
between the two."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from instacart_lake.context import Lake
from instacart_lake.locations import is_local, uri_to_path
from instacart_lake.runs import RunRecord

FEATURE_STAGE = "clean_to_curated"
BINS = 20
PSI_FLOOR = 1e-4
"""The share given to an empty bin in the PSI, so that it stays finite."""


@dataclass(frozen=True)
class FeatureComparison:
    table: str
    name: str
    edges: list[float]
    current: list[float]
    """Share of the rows in each bin."""
    previous: list[float] | None
    current_mean: float
    previous_mean: float | None
    psi: float | None

    def to_dict(self) -> dict:
        return {"table": self.table, "name": f"{self.table}.{self.name}", "edges": self.edges,
                "current": self.current, "previous": self.previous, "current_mean": self.current_mean,
                "previous_mean": self.previous_mean, "psi": self.psi}


def feature_versions(record: RunRecord) -> dict[str, int]:
    """The feature tables a run wrote and their Delta versions."""
    return {table: counts["version"] for stage in record.stages if stage.stage == FEATURE_STAGE
            and stage.outcome == "succeeded" for table, counts in stage.tables.items()
            if counts.get("version") is not None}


def read_features(lake: Lake, table: str, version: int) -> dict[str, np.ndarray]:
    """The numeric non-key columns of a curated table at a version (nulls left out)."""
    uri = lake.locations.table_uri("curated", table)
    delta = DeltaTable(uri_to_path(uri) if is_local(uri) else uri, version=version)
    data = delta.to_pyarrow_table()
    columns = {}
    for field in data.schema:
        is_number = pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
        if is_number and not field.name.endswith("_id"):
            values = pc.drop_null(data[field.name]).to_numpy(zero_copy_only=False)
            columns[field.name] = values.astype(np.float64)
    return columns


def compare_feature(table: str, name: str, current: np.ndarray, previous: np.ndarray | None) -> FeatureComparison:
    """Histograms of `current` and `previous` on bins spanning both, and their PSI."""
    together = current if previous is None else np.concatenate([current, previous])
    low, high = (float(together.min()), float(together.max())) if len(together) else (0.0, 1.0)
    edges = np.linspace(low, high if high > low else low + 1.0, BINS + 1)

    def shares(values: np.ndarray) -> np.ndarray:
        counts, _ = np.histogram(values, bins=edges)
        return counts / max(len(values), 1)

    now = shares(current)
    before = None if previous is None else shares(previous)
    psi = None
    if before is not None:
        a, b = np.maximum(now, PSI_FLOOR), np.maximum(before, PSI_FLOOR)
        psi = float(np.sum((a - b) * np.log(a / b)))
    return FeatureComparison(table, name, edges.tolist(), now.tolist(), None if before is None else before.tolist(),
                             float(current.mean()) if len(current) else float("nan"),
                             None if previous is None or not len(previous) else float(previous.mean()), psi)


def compare_runs(lake: Lake, current: RunRecord, previous: RunRecord | None) -> list[FeatureComparison]:
    """Every numeric feature of the tables `current` wrote, against `previous` where it wrote them too."""
    now, before = feature_versions(current), feature_versions(previous) if previous is not None else {}
    comparisons = []
    for table, version in sorted(now.items()):
        columns = read_features(lake, table, version)
        earlier = read_features(lake, table, before[table]) if table in before else {}
        comparisons += [compare_feature(table, name, values, earlier.get(name)) for name, values in columns.items()]
    return comparisons
