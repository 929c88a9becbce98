"""What every command and job works against: the configuration, its locations and the catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from instacart_lake.config import LakeConfig, load_config
from instacart_lake.locations import Locations


@dataclass
class Lake:
    config: LakeConfig
    locations: Locations = field(init=False)

    def __post_init__(self) -> None:
        self.locations = Locations(self.config)

    @classmethod
    def from_environment(cls, root: str | None = None, profile: str | None = None) -> "Lake":
        return cls(load_config(profile=profile, root=root))

    @cached_property
    def catalog(self):
        """The catalog of this profile: the embedded file catalog locally, Glue on AWS."""
        from instacart_lake.catalog import open_catalog

        return open_catalog(self.config, self.locations)
