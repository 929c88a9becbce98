"""The lake's training channels loaded as ml/train.py loads them, for the benchmarks that train
on them (training_speed.py, training_evaluation_cost.py)."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xgboost as xgb

from instacart_lake.context import Lake
from instacart_lake.locations import Locations, uri_to_path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "ml"))
import train  # noqa: E402  (ml/train.py, the training script itself)


@dataclass(frozen=True)
class TrainingChannels:
    locations: Locations
    args: argparse.Namespace
    """train.py's arguments on these channels: its defaults, every core."""
    dtrain: xgb.DMatrix
    dvalidation: xgb.DMatrix
    train_rows: int
    validation_rows: int


def load_training_channels(lake_root: Path) -> TrainingChannels:
    locations = Lake.from_environment(root=lake_root, profile="local").locations
    channels = {name: uri_to_path(locations.ml_set_uri(name)) for name in ("train", "validation")}
    args = train.parse_args(["--train", channels["train"], "--validation", channels["validation"],
                             "--model_dir", "unused", "--output_data_dir", "unused",
                             "--nthread", str(os.cpu_count())])
    labels, features = train.read_channel(args.train)
    validation_labels, validation_features = train.read_channel(args.validation)
    return TrainingChannels(locations, args,
                            xgb.DMatrix(features, label=labels, missing=np.nan),
                            xgb.DMatrix(validation_features, label=validation_labels, missing=np.nan),
                            len(labels), len(validation_labels))
