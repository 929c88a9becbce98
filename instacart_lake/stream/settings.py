"""The order stream's settings: the `[stream]` table of lake.toml, each key overridden by
LAKE_STREAM_<KEY> (LAKE_STREAM_STREAM_NAME, LAKE_STREAM_BUFFER_INTERVAL_SECONDS, ...)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from typing import Mapping

from instacart_lake.config import CONFIG_PATH

MIB = 1 << 20


@dataclass(frozen=True)
class StreamSettings:
    stream_name: str
    delivery_stream_name: str
    shard_count: int
    buffer_size_mib: int
    buffer_interval_seconds: int
    prefix: str
    """The raw-zone key prefix of delivered objects, in Firehose's namespaces (!{timestamp:...})."""
    error_prefix: str

    @property
    def buffer_size_bytes(self) -> int:
        return self.buffer_size_mib * MIB

    @property
    def prefix_root(self) -> str:
        """The folders of `prefix` before its first expression: the folder job 1 reads."""
        return self.prefix.split("!{", 1)[0].rsplit("/", 1)[0]


def load_stream_settings(environ: Mapping[str, str] | None = None) -> StreamSettings:
    env = os.environ if environ is None else environ
    with CONFIG_PATH.open("rb") as handle:
        declared = tomllib.load(handle)["stream"]
    values = {}
    for field in fields(StreamSettings):
        value = env.get(f"LAKE_STREAM_{field.name.upper()}") or declared[field.name]
        values[field.name] = int(value) if field.type == "int" else str(value)
    return StreamSettings(**values)
