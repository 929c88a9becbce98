"""The SageMaker entry-point scripts (the repository's top-level `ml/` folder) and their
source archive, the `sagemaker_submit_directory` that a training job on AWS downloads."""

from __future__ import annotations

from pathlib import Path

from instacart_lake.ml.artifacts import pack_tar_gz
from instacart_lake.ml.job_requests import SCORING_PROGRAM, TRAINING_PROGRAM

ML_SCRIPTS_DIR = Path(__file__).resolve().parents[2] / "ml"


def package_scripts(scripts_dir: Path = ML_SCRIPTS_DIR) -> bytes:
    """sourcedir.tar.gz: train.py and score.py at the archive root; the same scripts give
    the same bytes."""
    return pack_tar_gz({name: scripts_dir / name for name in (TRAINING_PROGRAM, SCORING_PROGRAM)})
