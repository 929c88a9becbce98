"""The aws profile end to end against S3 and Glue served by moto on loopback.

`lake run` takes a tiny generated dataset through ingest, crawl, raw_to_clean and
clean_to_curated twice, as a user would: once with the aws profile pointed at moto (s3://
zones through pyarrow and s3a, the Glue catalog through boto3), once with the local profile.
Both lakes must hold the same clean, quarantine and feature tables, and Glue the same tables
as the local catalog, at their s3:// locations.

Nothing reaches AWS: every client gets the moto endpoint (lake.toml's endpoint_url, and
AWS_ENDPOINT_URL for anything else), the credentials are fake, the shared AWS files and the
instance metadata are switched off.
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest
from deltalake import DeltaTable
from moto.server import ThreadedMotoServer

from instacart_lake.aws_clients import s3a_settings
from instacart_lake.config import ZONES, load_config
from instacart_lake.context import Lake
from instacart_lake.locations import is_local, uri_to_path
from instacart_lake.schemas import SOURCE_TABLES
from instacart_lake.transforms.features import FEATURE_GRAINS

LAKE_COMMAND = str(Path(sys.executable).with_name("lake"))
REGION = "us-east-1"
BUCKETS = {zone: f"lake-test-{zone}" for zone in ZONES}
SEED = 7
DAMAGED_AISLE_LINES = "0,an aisle out of range\n,an aisle without an id\n"
"""Lines the aisles quarantine takes, so that quarantine tables are compared too. Not the
generator's --defects: at this scale their knock-on effects fail the feature tables' gate."""
SPARK_SETTINGS = {"LAKE_SPARK_DRIVER_MEMORY": "2g", "LAKE_SPARK_SHUFFLE_PARTITIONS": "2"}
"""Both runs alike, and small: two sessions share the machine."""
RUN_SECONDS = 600
QUARANTINE_RUN_COLUMNS = ("run_id", "quarantined_at")
"""Columns that say which run quarantined a line: they differ between the two runs."""
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="module")
def moto_endpoint():
    """moto on a free loopback port; the test process's own AWS clients go there too."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("AWS_"):
                patch.delenv(name)
        for name, value in _offline_aws_environment(endpoint).items():
            patch.setenv(name, value)
        yield endpoint
    server.stop()


def _base_environment() -> dict[str, str]:
    """The test's environment without any AWS or lake setting it may have inherited."""
    return {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "LAKE_"))}


def _offline_aws_environment(endpoint: str) -> dict[str, str]:
    return {
        **FAKE_CREDENTIALS,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def _aws_lake_environment(endpoint: str) -> dict[str, str]:
    return {
        **_base_environment(),
        **_offline_aws_environment(endpoint),
        **SPARK_SETTINGS,
        "LAKE_PROFILE": "aws",
        "LAKE_ENDPOINT_URL": endpoint,
        "LAKE_REGION": REGION,
        **{f"LAKE_{zone.upper()}_URI": f"s3://{bucket}" for zone, bucket in BUCKETS.items()},
    }


def _local_lake_environment(root: Path) -> dict[str, str]:
    return {**_base_environment(), **SPARK_SETTINGS, "LAKE_PROFILE": "local", "LAKE_ROOT": str(root)}


def _start_lake(arguments: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([LAKE_COMMAND, *arguments], env=env, cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _finish(runs: dict[str, subprocess.Popen]) -> None:
    """Wait for every run (killing one that overruns), then fail with the output of those that failed."""
    failures = []
    for what, process in runs.items():
        try:
            output, _ = process.communicate(timeout=RUN_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        if process.returncode != 0:
            failures.append(f"{what} failed:\n{output[-4000:]}")
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def lakes(moto_endpoint, tmp_path_factory):
    """The aws lake (on moto) and the local lake, each after `lake run` on the same source."""
    work = tmp_path_factory.mktemp("aws_profile")
    source = work / "source"
    local_root = work / "local"
    aws_env = _aws_lake_environment(moto_endpoint)
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto_endpoint)
    for bucket in BUCKETS.values():
        s3.create_bucket(Bucket=bucket)
    _finish({"lake generate": _start_lake(["generate", "--scale", "tiny", "--seed", str(SEED), "--out", str(source)],
                                          _local_lake_environment(local_root), work)})
    with (source / "aisles.csv").open("a") as aisles:
        aisles.write(DAMAGED_AISLE_LINES)
    run = ["run", "--source", str(source), "--until", "clean_to_curated"]
    _finish({"lake run (aws profile on moto)": _start_lake(run, aws_env, work),
             "lake run (local profile)": _start_lake(run, _local_lake_environment(local_root), work)})
    return (Lake(load_config(profile="aws", environ=aws_env)),
            Lake(load_config(profile="local", environ=_local_lake_environment(local_root))))


def _delta_storage_options(endpoint: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": REGION, "AWS_ALLOW_HTTP": "true",
            **FAKE_CREDENTIALS}


def _comparable(value):
    """Floats to 12 significant digits (sums may add up in another order), NaN equal to NaN,
    lists as tuples."""
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else float(f"{value:.12g}")
    if isinstance(value, list):
        return tuple(_comparable(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, _comparable(item)) for key, item in value.items()))
    return value


def _table_rows(lake: Lake, zone: str, table: str, storage_options: dict[str, str] | None = None) -> list[tuple]:
    """The rows of a Delta table, sorted, with quarantine rows made independent of the run:
    the source file relative to the raw zone, and no run columns."""
    uri = lake.locations.table_uri(zone, table)
    location = uri_to_path(uri) if is_local(uri) else uri
    rows = DeltaTable(location, storage_options=storage_options).to_pyarrow_table().to_pylist()
    raw_zone = lake.locations.zone_uri("raw") + "/"
    comparable = []
    for row in rows:
        if "source_file" in row:
            row["source_file"] = row["source_file"].removeprefix(raw_zone)
        comparable.append(tuple(sorted((name, _comparable(value)) for name, value in row.items()
                                       if name not in QUARANTINE_RUN_COLUMNS)))
    return sorted(comparable, key=repr)


def _compared_tables(local: Lake) -> list[tuple[str, str]]:
    clean = [("clean", name) for name in SOURCE_TABLES]
    quarantine = [("clean", f"{name}_quarantine") for name in SOURCE_TABLES
                  if DeltaTable.is_deltatable(uri_to_path(local.locations.quarantine_table_uri(name)))]
    curated = [("curated", name) for name in FEATURE_GRAINS]
    assert ("clean", "aisles_quarantine") in quarantine
    return clean + quarantine + curated


def test_every_client_of_the_aws_lake_is_on_loopback(moto_endpoint, lakes):
    aws, _ = lakes
    assert urlparse(moto_endpoint).hostname == "127.0.0.1"
    assert aws.config.endpoint_url == moto_endpoint
    assert urlparse(aws.catalog.client.meta.endpoint_url).hostname == "127.0.0.1"
    assert s3a_settings(aws.config)["spark.hadoop.fs.s3a.endpoint"] == moto_endpoint
    assert all(uri.startswith("s3://lake-test-") for uri in aws.config.zone_uris.values())


def test_the_aws_lake_holds_the_tables_of_the_local_lake(moto_endpoint, lakes):
    aws, local = lakes
    options = _delta_storage_options(moto_endpoint)
    for zone, table in _compared_tables(local):
        on_s3 = _table_rows(aws, zone, table, options)
        # A quarantine table exists from its table's first run, empty when nothing was rejected;
        # every other table, and the damaged aisles' quarantine, has rows.
        assert on_s3 or (table.endswith("_quarantine") and table != "aisles_quarantine"), f"{zone}.{table} is empty"
        assert on_s3 == _table_rows(local, zone, table), f"{zone}.{table} differs between S3 and local"


def test_glue_has_the_tables_of_the_local_catalog_at_s3_locations(lakes):
    aws, local = lakes
    for zone in ("raw", "clean", "curated"):
        database = aws.locations.database(zone)
        in_glue = {table["Name"]: table for table in aws.catalog.get_tables(database)}
        expected = {table["Name"]: table for table in local.catalog.get_tables(database)}
        assert sorted(in_glue) == sorted(expected), database
        zone_uri = aws.locations.zone_uri(zone)
        for name, table in in_glue.items():
            location = table["StorageDescriptor"]["Location"]
            assert location.startswith(f"{zone_uri}/"), f"{database}.{name} is at {location}"
            local_location = expected[name]["StorageDescriptor"]["Location"]
            assert location.removeprefix(zone_uri) == local_location.removeprefix(local.locations.zone_uri(zone))
            assert table["StorageDescriptor"]["Columns"] == expected[name]["StorageDescriptor"]["Columns"]
