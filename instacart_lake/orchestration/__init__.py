"""The chain of stages as one definition (pipeline.toml), the events between them, and the
local services and event loop that run it on this machine the way AWS runs it."""

from instacart_lake.orchestration.definition import Definition, EventKind, Stage, load_definition

__all__ = ["Definition", "EventKind", "Stage", "load_definition"]
