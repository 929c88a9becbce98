"""Shared fixtures: one Spark session per test run, and a fresh local lake per test."""

from __future__ import annotations

import pytest

from instacart_lake.context import Lake
from instacart_lake.runtime import build_local_spark


@pytest.fixture(scope="session")
def spark():
    session = build_local_spark("instacart-lake-tests", driver_memory="3g", shuffle_partitions=2)
    yield session
    session.stop()


@pytest.fixture
def lake(tmp_path, monkeypatch) -> Lake:
    """A local lake under a temporary folder, with the environment cleared of LAKE_* overrides."""
    for name in ("LAKE_PROFILE", "LAKE_ROOT", "LAKE_META_URI", "LAKE_REGION"):
        monkeypatch.delenv(name, raising=False)
    return Lake.from_environment(root=tmp_path / "lake", profile="local")
