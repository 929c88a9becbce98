"""The crawler definitions of the top-level `crawlers/` folder: what the local crawler does
and what `make templates` compiles into the AWS::Glue::Crawler resources.

The folder sits beside the package (as in the Lambda bundle that `lake deploy` builds), so
the handlers that start the crawler find it on Lambda too.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from instacart_lake.errors import LakeError

CRAWLERS_DIR = Path(__file__).resolve().parent.parent.parent / "crawlers"
RAW_ZONE_CRAWLER = "raw_zone"

# The local crawler's schema change policies, by the UpdateBehavior Glue spells them with.
LOCAL_POLICIES = {"UPDATE_IN_DATABASE": "update", "LOG": "log"}


@dataclass(frozen=True)
class CrawlerDefinition:
    name: str
    zone: str
    description: str
    exclusions: tuple[str, ...]
    classifiers: tuple[str, ...]
    schedule: str
    recrawl_behavior: str
    update_behavior: str
    delete_behavior: str
    configuration: dict[str, Any]

    def glue_name(self, database_prefix: str) -> str:
        """The crawler's name in Glue, also the name it signs its tables with."""
        return f"{database_prefix}_{self.name}"

    @property
    def local_policy(self) -> str:
        return LOCAL_POLICIES[self.update_behavior]


def _parse(path: Path) -> CrawlerDefinition:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        policy = raw["schema_change_policy"]
        definition = CrawlerDefinition(
            name=raw["name"], zone=raw["zone"], description=raw["description"],
            exclusions=tuple(raw["exclusions"]), classifiers=tuple(raw["classifiers"]),
            schedule=raw["schedule"], recrawl_behavior=raw["recrawl_behavior"],
            update_behavior=policy["update_behavior"], delete_behavior=policy["delete_behavior"],
            configuration=raw["configuration"],
        )
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise LakeError(f"{path}: {error}") from error
    except KeyError as error:
        raise LakeError(f"{path}: missing key {error}") from error
    if definition.update_behavior not in LOCAL_POLICIES:
        raise LakeError(f"{path}: update_behavior must be one of {', '.join(LOCAL_POLICIES)}")
    return definition


@lru_cache(maxsize=None)
def load_crawler(name: str = RAW_ZONE_CRAWLER, folder: Path = CRAWLERS_DIR) -> CrawlerDefinition:
    return _parse(folder / f"{name}.toml")


def all_crawlers(folder: Path = CRAWLERS_DIR) -> list[CrawlerDefinition]:
    return [load_crawler(path.stem, folder) for path in sorted(folder.glob("*.toml"))]
