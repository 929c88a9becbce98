"""The result of a crawl: what changed in the catalog, the schema drift, the files refused."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from instacart_lake.crawler.drift import SchemaDrift
from instacart_lake.crawler.layout import CrawlProblem


@dataclass(frozen=True)
class PartitionChange:
    table: str
    partition: str
    location: str


@dataclass
class CrawlReport:
    schema_change_policy: str
    database: str
    tables_created: list[str] = field(default_factory=list)
    tables_updated: list[str] = field(default_factory=list)
    tables_unchanged: list[str] = field(default_factory=list)
    partitions_added: list[PartitionChange] = field(default_factory=list)
    partitions_updated: list[PartitionChange] = field(default_factory=list)
    drift: list[SchemaDrift] = field(default_factory=list)
    problems: list[CrawlProblem] = field(default_factory=list)

    @property
    def changed_catalog(self) -> bool:
        return bool(self.tables_created or self.tables_updated or self.partitions_added or self.partitions_updated)

    def to_dict(self) -> dict:
        return asdict(self)
