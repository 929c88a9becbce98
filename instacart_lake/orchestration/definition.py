"""The orchestration definition, read from pipeline.toml beside this module (shipped with the
library, so the handlers read it on Lambda too).

A stage's name is also the name of what it runs: a Glue job is the script
glue_jobs/<name>.py deployed as the Glue job <name>; the crawler stage runs the raw zone's
crawler; the SageMaker stages are the training and the scoring job of a model version.
"""

from __future__ import annotations

import importlib
import json
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

from instacart_lake.errors import LakeError

DEFINITION_PATH = Path(__file__).with_name("pipeline.toml")
STAGE_KINDS = ("ingest", "crawler", "glue_job", "training_job", "processing_job")
S3_SOURCE = "aws.s3"


@dataclass(frozen=True)
class Stage:
    name: str
    runs: str
    started_by: str | None = None


@dataclass(frozen=True)
class EventKind:
    """An event that starts a stage: an S3 event notification (`source` aws.s3, matched by the
    object key's `prefix` and `suffix`) or an EventBridge event (`source` and `detail_type`)."""

    name: str
    source: str
    handler: str
    detail_type: str | None = None
    event_name: str | None = None
    prefix: str = ""
    suffix: str = ""

    def matches(self, event: Mapping[str, Any]) -> bool:
        if self.source == S3_SOURCE:
            return any(self._matches_record(record) for record in event.get("Records", []))
        return event.get("source") == self.source and event.get("detail-type") == self.detail_type

    def _matches_record(self, record: Mapping[str, Any]) -> bool:
        """An S3 notification record of this event name (`ObjectCreated:*`: any put) and key filter."""
        name_prefix = (self.event_name or "").removesuffix("*")
        return (record.get("eventSource") == "aws:s3" and record.get("eventName", "").startswith(name_prefix)
                and self.matches_key(record["s3"]["object"]["key"]))

    def matches_key(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith(self.suffix)

    def object_key(self, name: str) -> str:
        """The key of an object that this S3 event kind matches."""
        return f"{self.prefix}{name}{self.suffix}"

    def handler_function(self) -> Callable[[Mapping[str, Any], Any], Any]:
        module_name, _, function_name = self.handler.partition(":")
        return getattr(importlib.import_module(module_name), function_name)


@dataclass(frozen=True)
class Definition:
    stages: tuple[Stage, ...]
    events: Mapping[str, EventKind]

    @property
    def stage_names(self) -> list[str]:
        return [stage.name for stage in self.stages]

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise LakeError(f"unknown stage {name!r}; stages are {', '.join(self.stage_names)}")

    def stage_running(self, runs: str) -> Stage:
        """The one stage that runs a crawler, a training job or a processing job."""
        [stage] = [stage for stage in self.stages if stage.runs == runs]
        return stage

    def next_stage(self, name: str) -> Stage | None:
        """The stage that the end of stage `name` starts; None at the end of the chain."""
        names = self.stage_names
        index = names.index(self.stage(name).name)
        return self.stages[index + 1] if index + 1 < len(self.stages) else None

    @property
    def raw_files_landed(self) -> EventKind:
        """The S3 event kind of the raw zone: the one that starts the chain."""
        return self.events[self.stages[1].started_by]

    def event_kind(self, event: Mapping[str, Any]) -> EventKind | None:
        return next((kind for kind in self.events.values() if kind.matches(event)), None)


def batch_marker(run_id: str, uris: list[str]) -> str:
    """The text of a batch marker (the object of the raw_files_landed event): the landing's id
    and the files it landed."""
    return json.dumps({"run_id": run_id, "files": uris}, indent=1)


@lru_cache(maxsize=None)
def load_definition(path: Path = DEFINITION_PATH) -> Definition:
    with path.open("rb") as handle:
        document = tomllib.load(handle)
    events = {name: EventKind(name=name, **fields) for name, fields in document["events"].items()}
    stages = tuple(Stage(**fields) for fields in document["stages"])
    for stage in stages:
        if stage.runs not in STAGE_KINDS:
            raise LakeError(f"{path}: stage {stage.name} runs {stage.runs!r}, not one of {', '.join(STAGE_KINDS)}")
        if stage.started_by is not None and stage.started_by not in events:
            raise LakeError(f"{path}: stage {stage.name} is started by the unknown event {stage.started_by!r}")
    return Definition(stages, events)
