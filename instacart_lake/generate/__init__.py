"""A synthetic Instacart dataset: the six files shaped as the real ones, from a behavioural
model whose true reorder probabilities are known (ground_truth.csv), optionally with known
defects (defects.csv)."""

from instacart_lake.generate.dataset import GROUND_TRUTH_FILE, GenerationReport, generate_dataset
from instacart_lake.generate.defects import MANIFEST_FILE
from instacart_lake.generate.model import ModelParameters
from instacart_lake.generate.scales import SCALES, Scale, scale_named

__all__ = ["GROUND_TRUTH_FILE", "GenerationReport", "MANIFEST_FILE", "ModelParameters", "SCALES",
           "Scale", "generate_dataset", "scale_named"]
