"""Environment failures through the real `lake` command: one line on stderr, no traceback, the
exit code of the failure's kind (instacart_lake.failures); run records that know a dead run;
runs from a later stage that generate and land nothing."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from instacart_lake.commands.run import chosen_source
from instacart_lake.failures import (
    EX_CONFIG,
    EX_INTERRUPTED,
    EX_IOERR,
    EX_NOPERM,
    EX_TERMINATED,
    EX_UNAVAILABLE,
    Terminated,
    terminate_as_interrupt,
)
from instacart_lake.generate import generate_dataset, scale_named
from instacart_lake.locations import uri_to_path
from instacart_lake.orchestration.job_execution import run_job_process, script_error
from instacart_lake.runs import RunRecord, load_latest_run, mark_dead_run_interrupted, save_run

LAKE = str(Path(sys.executable).with_name("lake"))
STAGE_START_TIMEOUT = 600.0


def lake_command(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([LAKE, *arguments], capture_output=True, text=True, env=env or clean_environment(),
                          timeout=900)


def clean_environment(**extra: str) -> dict[str, str]:
    """This environment without the lake's settings (each test names its lake root)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LAKE_")}
    return {**environment, **extra}


def assert_one_line(stderr: str, expected: str) -> None:
    assert stderr.splitlines() == [expected]


@pytest.fixture(scope="module")
def tiny_source(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny")
    generate_dataset(folder, scale_named("tiny"), 7)
    return folder


@pytest.fixture
def read_only_root(tmp_path):
    root = tmp_path / "read-only"
    root.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(root)], check=True)
    yield root
    subprocess.run(["umount", str(root)], check=True)


@pytest.mark.parametrize("command", [["catalog"], ["status"], ["ingest", "."], ["run", "--from", "crawl"]])
def test_a_lake_root_that_is_a_file_is_refused_in_one_line(tmp_path, command):
    root = tmp_path / "lake"
    root.write_text("not a folder")

    completed = lake_command("--lake-root", str(root), *command)

    assert completed.returncode == EX_CONFIG
    assert_one_line(completed.stderr, f"lake {command[0]}: error: the lake root {root} is a file, not a folder: "
                                      "give --lake-root (or LAKE_ROOT) a folder")


def test_a_lake_root_under_a_file_is_refused_in_one_line(tmp_path):
    (tmp_path / "file").write_text("")

    completed = lake_command("--lake-root", str(tmp_path / "file" / "lake"), "catalog")

    assert completed.returncode == EX_CONFIG
    assert_one_line(completed.stderr, f"lake catalog: error: the lake root {tmp_path / 'file' / 'lake'} lies under "
                                      f"{tmp_path / 'file'}, a file, not a folder: give --lake-root (or LAKE_ROOT) "
                                      "a folder")


@pytest.mark.parametrize("command", ["run", "ingest"])
def test_a_read_only_lake_root_fails_in_one_line_with_its_own_exit_code(read_only_root, tiny_source, command):
    arguments = ["run", "--source", str(tiny_source)] if command == "run" else ["ingest", str(tiny_source)]

    completed = lake_command("--lake-root", str(read_only_root), *arguments)

    assert completed.returncode == EX_NOPERM
    assert len(completed.stderr.splitlines()) == 1
    assert completed.stderr.startswith(f"lake {command}: error: read-only file system: {read_only_root}")


@pytest.mark.parametrize("command", [["status"], ["run"], ["catalog"]])
def test_the_aws_profile_without_credentials_says_so_in_one_line(tmp_path, command):
    environment = clean_environment(HOME=str(tmp_path), AWS_EC2_METADATA_DISABLED="true",
                                    AWS_CONFIG_FILE=str(tmp_path / "none"),
                                    AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        environment.pop(name, None)

    completed = lake_command("--profile", "aws", *command, env=environment)

    assert completed.returncode == EX_UNAVAILABLE
    assert_one_line(completed.stderr, f"lake {command[0]}: error: no AWS credentials for the aws profile: set "
                                      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, as for the AWS CLI")


def test_a_run_from_crawl_on_an_empty_lake_is_refused_at_once(tmp_path):
    root = tmp_path / "lake"

    completed = lake_command("--lake-root", str(root), "run", "--from", "crawl")

    assert completed.returncode == 1
    assert_one_line(completed.stderr, f"lake run: error: --from crawl: nothing is landed in {root.as_uri()}/raw yet; "
                                      "run `lake run` without --from (or `lake ingest`) first")
    assert not (root / "_meta" / "runs").exists()


def test_a_run_from_a_later_stage_takes_the_dataset_the_lake_was_built_from(lake, tiny_source):
    save_run(lake, RunRecord(run_id="jr_built", source=str(tiny_source), outcome="succeeded"))
    arguments = argparse.Namespace(source=None, start="curated_to_ml")

    assert chosen_source(lake, arguments, Console(quiet=True)) == tiny_source
    assert not Path(uri_to_path(lake.locations.meta_uri("generated"))).exists()


def test_a_run_from_a_later_stage_on_a_lake_with_no_recorded_dataset_has_no_source(lake):
    arguments = argparse.Namespace(source=None, start="curated_to_ml")

    assert chosen_source(lake, arguments, Console(quiet=True)) is None
    assert not Path(uri_to_path(lake.locations.meta_uri("generated"))).exists()


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_running_record_whose_process_is_gone_reads_as_interrupted_and_the_next_run_saves_it(lake):
    record = RunRecord(run_id="jr_dead", pid=dead_pid())
    save_run(lake, record)

    assert load_latest_run(lake).outcome == "interrupted"
    stored = json.loads(Path(uri_to_path(f"{lake.locations.runs_uri}/jr_dead.json")).read_text())
    assert stored["outcome"] == "running"

    marked = mark_dead_run_interrupted(lake)

    stored = json.loads(Path(uri_to_path(f"{lake.locations.runs_uri}/jr_dead.json")).read_text())
    assert (marked.run_id, stored["outcome"], stored["error"]) == (
        "jr_dead", "interrupted", "the process of its `lake run` ended before it")
    assert stored["updated_at"] == record.updated_at


def test_a_running_record_of_a_live_process_stays_running(lake):
    save_run(lake, RunRecord(run_id="jr_live"))

    assert load_latest_run(lake).outcome == "running"
    assert mark_dead_run_interrupted(lake) is None


def test_a_full_disk_inside_a_spark_job_is_summarised_as_no_space_left(tmp_path):
    stderr = "\n".join([
        "Traceback (most recent call last):",
        '  File "glue_jobs/raw_to_clean.py", line 40, in <module>',
        "py4j.protocol.Py4JJavaError: An error occurred while calling o120.save.",
        ": org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage 3.0 failed",
        "Caused by: java.io.IOException: No space left on device",
        "\tat java.base/java.io.FileOutputStream.writeBytes(Native Method)",
    ])

    message = script_error(stderr, 1, tmp_path)

    assert message.startswith(f"no space left on device: {tmp_path} (") and message.endswith(" bytes free)")


def test_another_script_error_is_its_last_exception():
    stderr = "Traceback (most recent call last):\n  File \"x.py\", line 1\ninstacart_lake.errors.LakeError: bad row"

    assert script_error(stderr, 1) == "LakeError: bad row"


def job_processes_of(root: Path) -> list[int]:
    """The processes (jobs of a `lake run`) whose environment names the lake root."""
    marker = f"LAKE_ROOT={root}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def run_until_first_job(root: Path, source: Path) -> subprocess.Popen:
    """A `lake run` in the background, returned once its first Glue job has started."""
    process = subprocess.Popen([LAKE, "--lake-root", str(root), "run", "--source", str(source)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_environment())
    deadline = time.monotonic() + STAGE_START_TIMEOUT
    for line in process.stdout:
        if "raw_to_clean" in line:
            break
        assert time.monotonic() < deadline, "the run did not start raw_to_clean"
    assert process.poll() is None
    return process


def status_of(root: Path) -> dict:
    completed = lake_command("--lake-root", str(root), "status", "--json")
    return json.loads(completed.stdout)


@pytest.mark.parametrize(("stop", "exit_code", "line", "error"), [
    (signal.SIGINT, EX_INTERRUPTED, "lake run: interrupted", "interrupted"),
    (signal.SIGTERM, EX_TERMINATED, "lake run: terminated", "terminated"),
])
def test_ctrl_c_or_sigterm_stops_the_run_and_its_jobs_in_one_line(tmp_path, tiny_source, stop, exit_code, line,
                                                                  error):
    root = tmp_path / "lake"
    process = run_until_first_job(root, tiny_source)

    process.send_signal(stop)
    stdout, stderr = process.communicate(timeout=120)

    assert process.returncode == exit_code
    assert_one_line(stderr, line)
    assert job_processes_of(root) == []
    status = status_of(root)
    assert (status["outcome"], status["error"]) == ("interrupted", error)
    assert [(stage["stage"], stage["outcome"]) for stage in status["stages"]][-1] == ("raw_to_clean", "stopped")


def processes_with_argument(argument: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if argument.encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@pytest.mark.parametrize(("stop", "raised"), [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, Terminated)])
def test_a_stop_signal_that_comes_while_a_job_process_forks_still_stops_the_job(tmp_path, stop, raised):
    """The signal is sent from an at-fork hook, the moment a signal can land in: raised there,
    Python would ignore it (it did, for SIGTERM, in CI: the run went on to the next stage)."""
    marker = f"job-of-{tmp_path.name}"
    armed = [True]

    def signal_once():
        if armed:
            armed.clear()
            os.kill(os.getpid(), stop)

    os.register_at_fork(before=signal_once)
    started = time.monotonic()
    with terminate_as_interrupt(), pytest.raises(raised):
        run_job_process([sys.executable, "-c", "import time; time.sleep(60)", marker])

    assert time.monotonic() - started < 30
    assert processes_with_argument(marker) == []


def wait_for_no_job_processes(root: Path) -> list[int]:
    """The job processes of the lake root left after up to a minute (a killed parent's Spark
    JVM exits when it sees the end of its input)."""
    deadline = time.monotonic() + 60
    while (left := job_processes_of(root)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def test_a_killed_run_reads_as_interrupted_and_the_next_run_saves_it_so(tmp_path, tiny_source):
    root = tmp_path / "lake"
    process = run_until_first_job(root, tiny_source)
    run_id = status_of(root)["run_id"]
    assert status_of(root)["outcome"] == "running"

    process.kill()
    process.communicate(timeout=60)

    assert wait_for_no_job_processes(root) == []

    assert status_of(root)["outcome"] == "interrupted"
    stored = json.loads((root / "_meta" / "runs" / f"{run_id}.json").read_text())
    assert stored["outcome"] == "running"

    completed = lake_command("--lake-root", str(root), "run", "--source", str(tiny_source), "--until", "ingest")

    assert completed.returncode == 0, completed.stderr
    stored = json.loads((root / "_meta" / "runs" / f"{run_id}.json").read_text())
    assert stored["outcome"] == "interrupted"


def test_a_full_disk_message_names_the_path_and_free_bytes():
    from instacart_lake.failures import classify

    failure = classify(OSError(28, "No space left on device", "/"))

    assert failure.exit_code == EX_IOERR
    assert failure.message.startswith("no space left on device: / (") and failure.message.endswith(" bytes free)")
