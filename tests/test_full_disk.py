"""A full disk through the real `lake` command: a lake root on a small tmpfs (the tests run as
root, here and in CI) that the data does not fit. One line on stderr naming no space left,
exit code 74, no traceback, nothing half-landed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from instacart_lake.failures import EX_IOERR
from instacart_lake.generate import generate_dataset, scale_named

LAKE = str(Path(sys.executable).with_name("lake"))
SOURCE_FILES = 6


def lake_command(*arguments: str) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LAKE_")}
    return subprocess.run([LAKE, *arguments], capture_output=True, text=True, env=environment, timeout=1800)


@pytest.fixture(scope="module")
def tiny_source(tmp_path_factory) -> Path:
    """A generated tiny dataset: about 2.4 MB, most of it products.csv."""
    folder = tmp_path_factory.mktemp("tiny")
    generate_dataset(folder, scale_named("tiny"), 11)
    return folder


def mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs; the test may grow it with `mount -o remount`."""
    folder = tmp_path / "disk"
    mount_tmpfs(folder, "1m")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def landed_files(root: Path) -> set[str]:
    """The raw zone's files, relative to it, leaving out hidden and `_` folders (staging, batches)."""
    raw = root / "raw"
    return {str(path.relative_to(raw)) for path in raw.rglob("*")
            if path.is_file() and not any(part.startswith(("_", ".")) for part in path.relative_to(raw).parts)}


def manifest_files(root: Path) -> set[str]:
    manifest = root / "_meta" / "ingest_manifest.jsonl"
    if not manifest.exists():
        return set()
    return {json.loads(line)["uri"] for line in manifest.read_text().splitlines() if line}


def assert_no_space_line(stderr: str, command: str, root: Path) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"lake {command}: error: no space left on device: {root}")
    assert lines[0].endswith(" bytes free)")


def test_an_ingest_that_fills_the_disk_fails_in_one_line_and_lands_no_part_of_a_file(small_disk, tiny_source):
    root = small_disk / "lake"

    completed = lake_command("--lake-root", str(root), "ingest", str(tiny_source))

    assert completed.returncode == EX_IOERR
    assert_no_space_line(completed.stderr, "ingest", root)
    assert "Traceback" not in completed.stdout
    assert landed_files(root) == manifest_files(root)
    assert len(manifest_files(root)) < SOURCE_FILES
    assert not [path for path in (root / "raw" / "_staging").rglob("*") if path.is_file()]

    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
    rerun = lake_command("--lake-root", str(root), "ingest", str(tiny_source))

    assert rerun.returncode == 0, rerun.stderr
    assert landed_files(root) == manifest_files(root)
    assert len(manifest_files(root)) == SOURCE_FILES


def test_a_run_whose_ingest_fills_the_disk_is_recorded_as_failed_with_that_line(small_disk, tiny_source):
    root = small_disk / "lake"

    completed = lake_command("--lake-root", str(root), "run", "--source", str(tiny_source))

    assert completed.returncode == EX_IOERR
    assert_no_space_line(completed.stderr, "run", root)
    assert landed_files(root) == manifest_files(root)
    status = json.loads(lake_command("--lake-root", str(root), "status", "--json").stdout)
    assert status["outcome"] == "failed"
    assert status["error"].startswith(f"no space left on device: {root}")


@pytest.fixture
def disk_for_the_raw_zone_only(tmp_path):
    """A 3 MiB tmpfs: room for the tiny dataset's raw files and catalog, not for job 1's tables."""
    folder = tmp_path / "disk"
    mount_tmpfs(folder, "3m")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_spark_job_that_fills_the_disk_fails_the_run_in_one_line(disk_for_the_raw_zone_only, tiny_source):
    root = disk_for_the_raw_zone_only / "lake"

    completed = lake_command("--lake-root", str(root), "run", "--source", str(tiny_source), "--until", "raw_to_clean")

    assert completed.returncode == EX_IOERR
    assert_no_space_line(completed.stderr, "run", root)
    assert "Traceback" not in completed.stdout and "\tat " not in completed.stdout
    assert landed_files(root) == manifest_files(root)
    status = json.loads(lake_command("--lake-root", str(root), "status", "--json").stdout)
    assert status["outcome"] in ("failed", "interrupted")
