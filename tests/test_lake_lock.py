"""The lake lock: two commands at once on one lake root, waiting, stale locks, and the S3 lock.

The commands run as a user runs them, `.venv/bin/lake --lake-root ...` in subprocesses. To
hold a run inside the lock for as long as the test needs, the test stops its process
(SIGSTOP) once its holder record is there, and lets it go on (SIGCONT) afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from instacart_lake import lake_lock
from instacart_lake.context import Lake
from instacart_lake.ingest import read_manifest
from instacart_lake.lake_lock import EX_TEMPFAIL, Holder, LakeLocked, current_holder
from instacart_lake.locations import uri_to_path
from instacart_lake.runs import load_latest_run

LAKE_COMMAND = str(Path(sys.executable).with_name("lake"))
AISLES = b"aisle_id,aisle\n1,prepared soups salads\n2,specialty cheeses\n"
DEPARTMENTS = b"department_id,department\n1,frozen\n2,bakery\n"
SECONDS = 120
"""Enough for any command of these tests on a busy machine; none is expected to take it."""
POLL_SECONDS = 0.005


@pytest.fixture
def source_dir(tmp_path) -> Path:
    folder = tmp_path / "source"
    folder.mkdir()
    (folder / "aisles.csv").write_bytes(AISLES)
    (folder / "departments.csv").write_bytes(DEPARTMENTS)
    return folder


def lake_process(lake: Lake, *arguments: str) -> subprocess.Popen:
    root = Path(uri_to_path(lake.locations.zone_uri("raw"))).parent
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LAKE_")}
    return subprocess.Popen([LAKE_COMMAND, "--lake-root", str(root), *arguments], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def holder_record(lake: Lake) -> Path:
    return Path(uri_to_path(lake.locations.meta_uri(lake_lock.HOLDER_FILE)))


def wait_for_holder(lake: Lake, processes: list[subprocess.Popen]) -> Holder:
    """The holder record of one of `processes`, as soon as one of them has written it."""
    pids = {process.pid for process in processes}
    while True:
        holder = Holder.from_json(holder_record(lake).read_text()) if holder_record(lake).exists() else None
        if holder is not None and holder.pid in pids:
            return holder
        finished = [process for process in processes if process.poll() is not None]
        assert not finished, f"a command ended before any held the lock: {finished[0].communicate()}"
        time.sleep(POLL_SECONDS)


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_two_runs_at_once_one_proceeds_and_the_other_is_refused_at_once(lake, source_dir):
    runs = [lake_process(lake, "run", "--source", str(source_dir), "--until", "crawl") for _ in range(2)]
    holder = wait_for_holder(lake, runs)
    winner = next(run for run in runs if run.pid == holder.pid)
    loser = next(run for run in runs if run is not winner)
    os.kill(winner.pid, signal.SIGSTOP)
    try:
        _, refused_err = loser.communicate(timeout=SECONDS)  # ends while the holder is stopped
    finally:
        os.kill(winner.pid, signal.SIGCONT)
    winner_out, winner_err = winner.communicate(timeout=SECONDS)

    assert loser.returncode == EX_TEMPFAIL
    lines = refused_err.strip().splitlines()
    assert len(lines) == 1, refused_err
    assert lines[0].startswith("lake run: error: ") and "Traceback" not in refused_err
    assert f"locked by run {holder.run_id} (PID {winner.pid} on {socket.gethostname()}, `lake run` since" in lines[0]
    assert winner.returncode == 0, winner_err
    assert load_latest_run(lake).run_id == holder.run_id
    assert sorted((m.source_name, m.version) for m in read_manifest(lake)) == [("aisles.csv", 1),
                                                                               ("departments.csv", 1)]
    assert not holder_record(lake).exists()


def test_a_second_ingest_waits_with_wait_and_then_lands(lake, source_dir):
    with lake_lock.hold(lake, "jr_holder", "test"):
        waiting = lake_process(lake, "ingest", "--wait", "--json", str(source_dir))
        first_line = waiting.stderr.readline()
        assert first_line.startswith(f"lake: waiting for the lake lock, held by run jr_holder (PID {os.getpid()} ")
        assert waiting.poll() is None
        assert read_manifest(lake) == []
    out, err = waiting.communicate(timeout=SECONDS)

    assert waiting.returncode == 0, err
    assert [landing["source_name"] for landing in json.loads(out)["landed"]] == ["aisles.csv", "departments.csv"]


def test_a_wait_that_runs_out_exits_75_in_one_line(lake, source_dir):
    with lake_lock.hold(lake, "jr_holder", "test"):
        process = lake_process(lake, "ingest", "--wait", "0.5", str(source_dir))
        _, err = process.communicate(timeout=SECONDS)

    lines = err.strip().splitlines()
    assert process.returncode == EX_TEMPFAIL
    assert lines[0].startswith("lake: waiting for the lake lock, held by run jr_holder")
    assert len(lines) == 2 and lines[1].startswith("lake ingest: error: ")
    assert "still locked after 0.5 s by run jr_holder" in lines[1]
    assert read_manifest(lake) == []


def test_two_ingests_that_wait_land_two_versions_and_lose_no_record(lake, source_dir, tmp_path):
    second = tmp_path / "second"
    second.mkdir()
    (second / "aisles.csv").write_bytes(AISLES + b"3,fresh fruits\n")
    with lake_lock.hold(lake, "jr_holder", "test"):
        ingests = [lake_process(lake, "ingest", "--wait", "--ingest-date", "2026-12-01", str(folder))
                   for folder in (source_dir / "aisles.csv", second / "aisles.csv")]
        for process in ingests:
            assert process.stderr.readline().startswith("lake: waiting for the lake lock")
    for process in ingests:
        process.communicate(timeout=SECONDS)

    assert [process.returncode for process in ingests] == [0, 0]
    manifest = read_manifest(lake)
    assert sorted(m.version for m in manifest) == [1, 2]
    raw = lake.locations.zone_uri("raw")
    assert sorted(m.uri for m in manifest) == [f"{raw}/aisles/ingest_date=2026-12-01/aisles.csv",
                                               f"{raw}/aisles/ingest_date=2026-12-01/aisles.v2.csv"]


def test_a_stale_lock_of_a_dead_process_is_taken_over_with_a_line(lake, source_dir):
    pid = dead_pid()
    stale = Holder(run_id="jr_dead", pid=pid, host=socket.gethostname(), command="lake run",
                   started_at="2026-12-01T10:00:00+00:00")
    holder_record(lake).parent.mkdir(parents=True)
    holder_record(lake).write_text(stale.to_json())
    assert current_holder(lake) is None

    process = lake_process(lake, "ingest", str(source_dir))
    _, err = process.communicate(timeout=SECONDS)

    assert process.returncode == 0, err
    assert err.strip().splitlines() == [
        f"lake: took over the lake lock of run jr_dead (PID {pid} on {socket.gethostname()}, `lake run` since "
        "2026-12-01T10:00:00+00:00): that process is gone"]
    assert len(read_manifest(lake)) == 2
    assert not holder_record(lake).exists()


def test_the_holder_is_known_while_held_and_none_after(lake):
    assert current_holder(lake) is None
    with lake_lock.hold(lake, "jr_1", "lake ingest") as held:
        holder = current_holder(lake)
        assert (holder.run_id, holder.pid, holder.host, holder.command) == (
            "jr_1", os.getpid(), socket.gethostname(), "lake ingest")
        assert holder == held and holder.is_alive()
    assert current_holder(lake) is None


def test_a_holder_is_alive_unless_its_process_on_this_host_is_gone():
    def holder(pid: int, host: str) -> Holder:
        return Holder(run_id="jr_1", pid=pid, host=host, command="lake run", started_at="2026-12-01T10:00:00+00:00")

    assert holder(os.getpid(), socket.gethostname()).is_alive()
    assert not holder(dead_pid(), socket.gethostname()).is_alive()
    assert holder(dead_pid(), "another-host").is_alive()  # cannot be checked from here


@pytest.fixture
def s3_lake(monkeypatch):
    for name in [name for name in os.environ if name.startswith(("LAKE_", "AWS_"))]:
        monkeypatch.delenv(name)
    with mock_aws():
        lake = Lake.from_environment(profile="aws")
        boto3.client("s3", region_name=lake.config.region).create_bucket(Bucket="instacart-lake-ml")
        yield lake


def test_on_s3_the_lock_is_a_conditional_create(s3_lake):
    notes = []
    with lake_lock.hold(s3_lake, "jr_1", "lake ingest") as held:
        assert current_holder(s3_lake) == held
        with pytest.raises(LakeLocked, match=rf"locked by run jr_1 \(PID {os.getpid()} on "):
            with lake_lock.hold(s3_lake, "jr_2", "lake ingest"):
                pass
    assert current_holder(s3_lake) is None

    stale = Holder(run_id="jr_dead", pid=dead_pid(), host=socket.gethostname(), command="lake run",
                   started_at="2026-12-01T10:00:00+00:00")
    boto3.client("s3", region_name=s3_lake.config.region).put_object(
        Bucket="instacart-lake-ml", Key=f"_meta/{lake_lock.HOLDER_FILE}", Body=stale.to_json().encode())
    with lake_lock.hold(s3_lake, "jr_3", "lake ingest", on_note=notes.append):
        assert current_holder(s3_lake).run_id == "jr_3"
    assert notes == [f"took over the lake lock of {stale.describe()}: that process is gone"]
    assert current_holder(s3_lake) is None

