"""The Instacart data lake: the library that Glue jobs, the CLI and the tests import."""

from instacart_lake.config import LakeConfig, load_config
from instacart_lake.context import Lake
from instacart_lake.errors import InputError, LakeError, QualityGateFailed
from instacart_lake.locations import Locations

__all__ = ["InputError", "Lake", "LakeConfig", "LakeError", "Locations", "QualityGateFailed", "load_config"]
