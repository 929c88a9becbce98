"""Crash safety: the pipeline killed with SIGKILL at each failpoint (instacart_lake.failpoints)
leaves every Delta table readable at its last commit and a run status "interrupted", and the
next run ends with the tables of a run that was never interrupted.

The pipeline runs as `lake run --until raw_to_clean` (ingest, crawl, job 1) in its own session,
since a failpoint kills its whole process group. One lake is killed at one failpoint after the
other, each run resuming what the previous one left, then run to the end; the uninterrupted run
it is compared with runs on another lake meanwhile. The failpoint between the two gold commits
is tested with the publish job alone (tests/test_publish_predictions.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable

from instacart_lake.generate import generate_dataset, scale_named

LAKE = str(Path(sys.executable).with_name("lake"))
RUN_TIMEOUT_SECONDS = 1800
VOLATILE_COLUMNS = frozenset({"run_id", "quarantined_at"})
"""Columns whose values are the run's own (its id, its clock), not the data's."""
RUN_LOGS = frozenset({"dq_results"})
"""Tables that log every gate evaluation, one set of rows per job run: a run killed after its
gate adds its own."""


def environment(failpoint: str | None) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("LAKE_")}
    return env if failpoint is None else {**env, "LAKE_FAILPOINT": failpoint}


def start_run(root: Path, source: Path, failpoint: str | None = None) -> subprocess.Popen:
    """`lake run` in its own session, its stderr in a file beside the lake."""
    root.mkdir(exist_ok=True)
    with open(root.with_name(f"{root.name}.stderr"), "w") as stderr:
        return subprocess.Popen([LAKE, "--lake-root", str(root), "run", "--source", str(source),
                                 "--until", "raw_to_clean"], env=environment(failpoint), start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=stderr)


def finished(process: subprocess.Popen, root: Path) -> tuple[int, str]:
    process.wait(timeout=RUN_TIMEOUT_SECONDS)
    return process.returncode, root.with_name(f"{root.name}.stderr").read_text()


def run_status(root: Path) -> dict:
    status = subprocess.run([LAKE, "--lake-root", str(root), "status", "--json"], env=environment(None),
                            capture_output=True, text=True, timeout=120)
    return json.loads(status.stdout)


def delta_tables(root: Path) -> dict[str, DeltaTable]:
    """Every Delta table of the lake, opened (a table that cannot be opened fails the test)."""
    return {f"{log.parent.parent.name}/{log.parent.name}": DeltaTable(str(log.parent))
            for log in sorted(root.glob("*/*/_delta_log")) if any(log.glob("*.json"))}


def versions(root: Path) -> dict[str, int]:
    return {name: table.version() for name, table in delta_tables(root).items()}


def table_rows(table: DeltaTable) -> list[tuple]:
    arrow = table.to_pyarrow_table()
    arrow = arrow.drop_columns([name for name in arrow.column_names if name in VOLATILE_COLUMNS])
    return sorted((tuple(row.values()) for row in arrow.to_pylist()), key=repr)


def contents(root: Path, run_logs: bool = False) -> dict[str, list[tuple]]:
    """Every table's rows (a table that cannot be read fails the test), without the run logs
    unless asked."""
    return {name: table_rows(table) for name, table in delta_tables(root).items()
            if run_logs or name.split("/")[1] not in RUN_LOGS}


def unreferenced_data_files(folder: Path) -> set[str]:
    """The non-empty Parquet files of a table folder that no commit of its log adds."""
    added = set()
    for commit in (folder / "_delta_log").glob("*.json"):
        added |= {json.loads(line)["add"]["path"] for line in commit.read_text().splitlines() if '"add"' in line}
    return {path.name for path in folder.glob("*.parquet") if path.name not in added}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("source")
    generate_dataset(folder, scale_named("tiny"), seed=1)
    return folder


def test_failpoints_die_by_sigkill_at_the_named_point_and_occurrence_only(tmp_path):
    program = ("from instacart_lake import failpoints\n"
               "for number in range(1, 4):\n"
               "    print('commit', number, flush=True)\n"
               "    failpoints.reach('delta.commit.before', 'orders' if number > 1 else 'aisles')\n"
               "print('done', flush=True)\n")

    def run(failpoint: str | None) -> tuple[int, list[str]]:
        done = subprocess.run([sys.executable, "-c", program], env=environment(failpoint), start_new_session=True,
                              capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout.split("\n")[:-1]

    assert run(None) == (0, ["commit 1", "commit 2", "commit 3", "done"])
    assert run("delta.commit.after") == (0, ["commit 1", "commit 2", "commit 3", "done"])
    assert run("delta.commit.before") == (-signal.SIGKILL, ["commit 1"])
    assert run("delta.commit.before:orders") == (-signal.SIGKILL, ["commit 1", "commit 2"])
    assert run("delta.commit.before:orders@2") == (-signal.SIGKILL, ["commit 1", "commit 2", "commit 3"])
    assert run("delta.commit.before:products") == (0, ["commit 1", "commit 2", "commit 3", "done"])


def is_gone(pid: int) -> bool:
    """Whether a process has ended (an unreaped zombie included)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def test_a_failpoint_in_a_job_kills_the_pipeline_group_and_the_job_group():
    """As `lake run` runs a job: in a subprocess with a session (a process group) of its own."""
    job = ("import subprocess\n"
           "from instacart_lake import failpoints\n"
           "print(subprocess.Popen(['sleep', '600']).pid, flush=True)\n"
           "failpoints.reach('ingest.after_rename')\n")
    pipeline = ("import subprocess, sys\n"
                "from instacart_lake import failpoints\n"
                "print(subprocess.Popen(['sleep', '600']).pid, flush=True)\n"
                f"subprocess.run([sys.executable, '-c', {job!r}], start_new_session=True)\n"
                "print('the pipeline lived on', flush=True)\n")
    done = subprocess.run([sys.executable, "-c", pipeline], env=environment("ingest.after_rename"),
                          start_new_session=True, capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL
    sleepers = [int(line) for line in done.stdout.split()]
    assert len(sleepers) == 2
    for _ in range(100):
        if all(is_gone(pid) for pid in sleepers):
            break
        subprocess.run(["sleep", "0.1"], check=True)
    assert [is_gone(pid) for pid in sleepers] == [True, True]


def test_a_run_killed_at_each_failpoint_in_turn_ends_with_the_tables_of_an_uninterrupted_run(tmp_path, source):
    uninterrupted_root, root = tmp_path / "uninterrupted", tmp_path / "lake"
    uninterrupted = start_run(uninterrupted_root, source)

    def killed_at(failpoint: str) -> dict[str, int]:
        """Run until the failpoint kills the run; the versions of the tables before it."""
        before = versions(root)
        code, err = finished(start_run(root, source, failpoint), root)
        assert code == -signal.SIGKILL, f"{failpoint}: exit {code}, {err}"
        assert "Traceback" not in err
        assert run_status(root)["outcome"] == "interrupted", failpoint
        assert set(before) <= set(contents(root, run_logs=True)), failpoint
        return before

    killed_at("ingest.after_rename")
    assert delta_tables(root) == {}
    assert len(list((root / "raw").glob("*/ingest_date=*/*.csv"))) == 1

    before = killed_at("delta.write.files:departments")
    assert "clean/departments" not in versions(root)
    assert unreferenced_data_files(root / "clean" / "departments")
    assert versions(root)["clean/aisles"] == 0
    assert before == {}

    before = killed_at("delta.commit.before:orders")
    assert "clean/orders" not in versions(root)
    assert versions(root)["clean/departments"] == 0
    assert unreferenced_data_files(root / "clean" / "departments") == set()

    before = killed_at("delta.commit.after:order_products__prior")
    assert versions(root)["clean/order_products__prior"] == 0
    assert before["clean/products"] == versions(root)["clean/products"]

    code, err = finished(start_run(root, source), root)
    assert code == 0, err
    assert run_status(root)["outcome"] == "succeeded"

    code, err = finished(uninterrupted, uninterrupted_root)
    assert code == 0, err
    expected = contents(uninterrupted_root)
    assert sorted(expected) == sorted(contents(root))
    assert {name: len(rows) for name, rows in contents(root).items()} == {
        name: len(rows) for name, rows in expected.items()}
    assert contents(root) == expected
