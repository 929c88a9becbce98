"""Configuration: one file (lake.toml) with a `local` and an `aws` profile, plus environment overrides."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import urlparse

from instacart_lake.errors import LakeError

CONFIG_PATH = Path(__file__).with_name("lake.toml")
ZONES = ("raw", "clean", "curated", "ml")
OPTIONAL_KEYS = ("root", "region", "meta_uri", "endpoint_url", "kinesis_endpoint_url", "spark_driver_memory",
                 "spark_shuffle_partitions")
"""Keys that LAKE_<KEY> sets in any profile, also where lake.toml leaves them out."""


@dataclass(frozen=True)
class LakeConfig:
    """The settings of one profile, after environment overrides.

    For the local profile `root` is an absolute folder and the zones are folders under it;
    for the aws profile each zone is an S3 bucket URI. `endpoint_url` is an S3-compatible
    endpoint that every AWS client of the lake uses instead of AWS itself (None: AWS);
    `kinesis_endpoint_url` one that the stream's Kinesis clients use instead (None: as the others).
    """

    profile: str
    catalog: str
    database_prefix: str
    zone_uris: Mapping[str, str]
    meta_uri: str
    region: str | None = None
    endpoint_url: str | None = None
    kinesis_endpoint_url: str | None = None
    spark_driver_memory: str = "8g"
    spark_shuffle_partitions: int = 8
    athena_workgroup: str | None = None
    """The Athena workgroup `lake query` runs in with this profile (None: no Athena)."""

    @property
    def is_local(self) -> bool:
        return self.catalog == "embedded"

    @property
    def on_s3(self) -> bool:
        return any(uri.startswith("s3://") for uri in self.zone_uris.values())


def _config_file() -> dict:
    with CONFIG_PATH.open("rb") as handle:
        return tomllib.load(handle)


def spark_settings(section: str) -> dict[str, str]:
    """A `[spark.<section>]` table of lake.toml: Spark settings that Glue sets too (`delta`,
    `delta_on_s3`), and those every job sets on its session (`jobs`)."""
    return dict(_config_file()["spark"][section])


def load_config(
    profile: str | None = None,
    root: str | os.PathLike | None = None,
    environ: Mapping[str, str] | None = None,
) -> LakeConfig:
    """The configuration of `profile` (or LAKE_PROFILE, default local); `root` overrides LAKE_ROOT."""
    env = os.environ if environ is None else environ
    profile = profile or env.get("LAKE_PROFILE", "local")
    profiles = _config_file()["profiles"]
    if profile not in profiles:
        raise LakeError(f"{CONFIG_PATH}: unknown profile {profile!r} (known: {', '.join(sorted(profiles))})")
    settings = dict(profiles[profile])
    for key in [*settings, *OPTIONAL_KEYS]:
        value = env.get(f"LAKE_{key.upper()}")
        if value:
            settings[key] = value
    if root is not None:
        settings["root"] = os.fspath(root)
    if settings["catalog"] == "embedded":
        base = Path(settings["root"]).expanduser().resolve().as_uri()
        zone_uris = {zone: f"{base}/{zone}" for zone in ZONES}
        meta_uri = settings.get("meta_uri", f"{base}/_meta")
    else:
        zone_uris = {zone: settings[f"{zone}_uri"].rstrip("/") for zone in ZONES}
        meta_uri = settings.get("meta_uri", f"{zone_uris['ml']}/_meta")
    return LakeConfig(
        profile=profile,
        catalog=settings["catalog"],
        database_prefix=settings["database_prefix"],
        zone_uris=zone_uris,
        meta_uri=meta_uri.rstrip("/"),
        region=settings.get("region"),
        endpoint_url=_checked_endpoint(settings.get("endpoint_url")),
        kinesis_endpoint_url=_checked_endpoint(settings.get("kinesis_endpoint_url"), "kinesis_endpoint_url"),
        spark_driver_memory=settings.get("spark_driver_memory", "8g"),
        spark_shuffle_partitions=int(settings.get("spark_shuffle_partitions", 8)),
        athena_workgroup=settings.get("athena_workgroup"),
    )


def _checked_endpoint(endpoint_url: str | None, key: str = "endpoint_url") -> str | None:
    if endpoint_url is None:
        return None
    parsed = urlparse(endpoint_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.path not in ("", "/"):
        raise LakeError(f"{key} {endpoint_url!r} (lake.toml or LAKE_{key.upper()}) is not an http:// or https:// "
                        "address such as http://127.0.0.1:5000")
    return endpoint_url.rstrip("/")
