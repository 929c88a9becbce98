"""The engines Glue 5.0 runs, on every machine: the jars of the version manifest, the session
that starts with them, and the docker path that passes the same Delta settings."""

from __future__ import annotations

import os
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

from instacart_lake.config import spark_settings
from instacart_lake.errors import LakeError
from instacart_lake.jars import jars_dir, maven_artifacts, render_pom, spark_jars
from instacart_lake.jvm_archive import ARCHIVE_PREFIX, archive_path, java_executable, java_options
from instacart_lake.versions import MANIFEST_PATH, load_manifest

ROOT = MANIFEST_PATH.parent
GLUE_5_DELTA = "3.3.0"


def test_the_manifest_names_glue_5s_delta_and_the_python_api_of_the_same_release():
    versions = {f"{a.group_id}:{a.artifact_id}": a.version for a in maven_artifacts()}
    assert versions["io.delta:delta-spark_2.12"] == versions["io.delta:delta-storage"] == GLUE_5_DELTA
    assert load_manifest()["python"]["delta-spark"] == GLUE_5_DELTA
    assert versions["org.apache.hadoop:hadoop-aws"] == "3.3.4"  # the Hadoop that pyspark 3.5.4 bundles
    assert versions["com.amazon.deequ:deequ"].endswith("-spark-3.5")


def test_the_maven_project_asks_for_each_artifact_of_the_manifest():
    pom = render_pom(maven_artifacts())
    for artifact in maven_artifacts():
        assert (f"<groupId>{artifact.group_id}</groupId><artifactId>{artifact.artifact_id}</artifactId>"
                f"<version>{artifact.version}</version>") in pom


def test_the_session_has_every_jar_and_delta_as_glue_enables_it(spark):
    for side in ("driver", "executor"):
        jars = spark.conf.get(f"spark.{side}.extraClassPath").split(os.pathsep)
        assert [Path(jar) for jar in jars] == spark_jars()
    assert spark.conf.get("spark.jars", "") == ""
    for key, value in {**spark_settings("delta"), **spark_settings("jobs")}.items():
        assert spark.conf.get(key) == value
    jvm = spark.sparkContext._jvm
    for class_name in ("io.delta.tables.DeltaTable", "com.amazon.deequ.dqdl.EvaluateDataQuality",
                       "org.apache.hadoop.fs.s3a.S3AFileSystem"):
        assert jvm.org.apache.spark.util.Utils.classForName(class_name, True, False).getName() == class_name


def test_the_session_maps_the_class_archive_that_setup_made_for_its_class_path(spark):
    archive = archive_path()
    assert archive is not None and archive.is_file()
    jvm = spark.sparkContext._jvm
    arguments = list(jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert f"-XX:SharedArchiveFile={archive}" in arguments
    class_path = jvm.java.lang.System.getProperty("java.class.path")

    def java_version_with_archive(class_path: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(java_executable()), "-Xshare:on", f"-XX:SharedArchiveFile={archive}",
                               "-cp", class_path, "-version"], capture_output=True, text=True)

    mapped = java_version_with_archive(class_path)
    assert mapped.returncode == 0, mapped.stdout + mapped.stderr
    another_class_path = os.pathsep.join(class_path.split(os.pathsep)[1:])
    assert java_version_with_archive(another_class_path).returncode != 0


def _small_jars(folder: Path) -> None:
    for artifact in maven_artifacts():
        with zipfile.ZipFile(folder / artifact.jar_name, "w") as jar:
            jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")


def test_the_class_archive_is_named_for_its_class_path_and_used_once_made(tmp_path, monkeypatch):
    _small_jars(tmp_path)
    monkeypatch.setenv("LAKE_JARS_DIR", str(tmp_path))
    named = archive_path()
    assert named.parent == tmp_path and named.name.startswith(ARCHIVE_PREFIX) and archive_path() == named
    assert java_options() == []
    named.write_bytes(b"archive")
    assert java_options() == [f"-XX:SharedArchiveFile={named}"]

    with zipfile.ZipFile(tmp_path / maven_artifacts()[0].jar_name, "a") as jar:
        jar.writestr("another.class", "")
    assert archive_path() != named
    assert java_options() == []


def test_a_missing_jar_folder_says_what_to_run(tmp_path):
    with pytest.raises(LakeError, match=r"delta-spark_2\.12-3\.3\.0\.jar is missing.*run `make setup`"):
        spark_jars(tmp_path / "nothing-here")


def test_a_broken_jar_says_what_to_run(tmp_path):
    _small_jars(tmp_path)
    broken = maven_artifacts()[0].jar_name
    (tmp_path / broken).write_bytes(b"<html>not found</html>")

    with pytest.raises(LakeError, match=f"{broken} is not a jar.*run `make setup`"):
        spark_jars(tmp_path)


def test_the_jar_folder_is_ignored_by_git():
    ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", str(jars_dir())])
    assert ignored.returncode == 0


def test_the_glue_image_run_passes_the_delta_settings_of_local_sessions(tmp_path):
    """docker/run-glue-job.sh with a `docker` on PATH that records its arguments."""
    recorder = tmp_path / "docker"
    recorder.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$RECORDED"\n')
    recorder.chmod(recorder.stat().st_mode | stat.S_IEXEC)
    recorded = tmp_path / "arguments"
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "RECORDED": str(recorded),
           "LAKE_ROOT": str(tmp_path / "lake")}

    subprocess.run([str(ROOT / "docker" / "run-glue-job.sh"), "raw_to_clean", "--lake_profile", "local"],
                   env=env, check=True)

    arguments = recorded.read_text().splitlines()
    assert load_manifest()["platform"]["glue_docker_image"] in arguments
    command = arguments[-1]
    for key, value in spark_settings("delta").items():
        assert f"--conf {key}={value}" in command
    assert "glue_jobs/raw_to_clean.py --JOB_NAME raw_to_clean --lake_profile local" in command
