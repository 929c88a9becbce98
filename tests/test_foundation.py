"""The version manifest, configuration, locations and Glue-style job arguments."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from instacart_lake.aws_clients import S3A_FILESYSTEM, boto3_client, s3a_settings
from instacart_lake.config import load_config
from instacart_lake.errors import LakeError
from instacart_lake.job_args import new_job_run_id, resolve_options
from instacart_lake.locations import Locations
from instacart_lake.versions import MANIFEST_PATH, load_manifest, render_requirements

ROOT = MANIFEST_PATH.parent


@pytest.mark.parametrize(("file_name", "section"), [("requirements.txt", "python"),
                                                    ("requirements-dev.txt", "python-dev")])
def test_requirements_are_rendered_from_the_manifest(file_name, section):
    assert (ROOT / file_name).read_text() == render_requirements(section)


def test_the_manifest_pins_glue_5_parity():
    platform = load_manifest()["platform"]
    assert (platform["glue"], platform["python"], platform["java"]) == ("5.0", "3.11", "17")
    assert platform["spark"].startswith("3.5.")
    assert load_manifest()["python"]["pyspark"] == platform["spark"]


def test_local_profile_puts_every_zone_under_the_lake_root(tmp_path):
    config = load_config("local", root=tmp_path / "lake", environ={})
    locations = Locations(config)
    base = (tmp_path / "lake").as_uri()

    assert config.catalog == "embedded"
    assert locations.zone_uri("clean") == f"{base}/clean"
    assert locations.table_uri("curated", "up_features") == f"{base}/curated/up_features"
    assert locations.database("raw") == "instacart_raw"
    assert locations.catalog_uri == f"{base}/_meta/catalog.json"
    assert locations.raw_landing_uri("orders", dt.date(2026, 1, 2)) == f"{base}/raw/orders/ingest_date=2026-01-02"


def test_aws_profile_uses_buckets_and_environment_overrides():
    config = load_config("aws", environ={"LAKE_RAW_URI": "s3://my-raw/", "LAKE_REGION": "eu-west-1"})
    locations = Locations(config)

    assert config.catalog == "glue" and config.region == "eu-west-1"
    assert locations.table_uri("raw", "orders") == "s3://my-raw/orders"
    assert locations.zone_uri("ml") == "s3://instacart-lake-ml"
    assert locations.meta_uri("runs") == "s3://instacart-lake-ml/_meta/runs"


def test_an_s3_compatible_endpoint_serves_every_client_of_the_profile():
    config = load_config("aws", environ={"LAKE_ENDPOINT_URL": "http://127.0.0.1:5000/"})
    settings = s3a_settings(config)

    assert config.endpoint_url == "http://127.0.0.1:5000"
    assert boto3_client(config, "glue").meta.endpoint_url == "http://127.0.0.1:5000"
    assert settings["spark.hadoop.fs.s3.impl"] == settings["spark.hadoop.fs.s3a.impl"] == S3A_FILESYSTEM
    assert settings["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:5000"
    assert settings["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert settings["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert "spark.hadoop.fs.s3a.endpoint" not in s3a_settings(load_config("aws", environ={}))
    with pytest.raises(LakeError, match="is not an http:// or https:// address"):
        load_config("aws", environ={"LAKE_ENDPOINT_URL": "127.0.0.1:5000"})


def test_environment_chooses_the_profile_and_root(tmp_path):
    config = load_config(environ={"LAKE_PROFILE": "local", "LAKE_ROOT": str(tmp_path)})
    assert config.zone_uris["raw"] == f"{tmp_path.as_uri()}/raw"
    with pytest.raises(LakeError, match="unknown profile 'prod'"):
        load_config("prod", environ={})
    with pytest.raises(ValueError, match="unknown zone 'gold'"):
        Locations(config).zone_uri("gold")


def test_job_arguments_follow_get_resolved_options():
    argv = ["script.py", "--JOB_NAME", "raw_to_clean", "--lake_profile=local", "--extra", "x",
            "--JOB_RUN_ID", "jr_given"]
    assert resolve_options(argv, ["JOB_NAME", "lake_profile"]) == {
        "JOB_NAME": "raw_to_clean", "lake_profile": "local", "JOB_RUN_ID": "jr_given"}
    generated = resolve_options(["--JOB_NAME", "j"], ["JOB_NAME"])["JOB_RUN_ID"]
    assert re.fullmatch(r"jr_[0-9a-f]{64}", generated)
    with pytest.raises(LakeError, match="missing job argument.*--lake_profile"):
        resolve_options(["--JOB_NAME", "j"], ["JOB_NAME", "lake_profile"])


def test_run_ids_sort_by_time():
    earlier = new_job_run_id(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    later = new_job_run_id(dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc))
    assert earlier < later and len(earlier) == 67


def test_glue_job_scripts_are_thin():
    for script in (ROOT / "glue_jobs").glob("*.py"):
        assert len(script.read_text().splitlines()) <= 60, script
        assert "ARGUMENTS = [" in script.read_text(), script


def test_the_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    assert "make test" in Path(ROOT / ".ci" / "run").read_text()
