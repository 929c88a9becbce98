"""Named points where a test makes the process die, the way storage engines test crash safety.

When the environment variable LAKE_FAILPOINT names a point (`NAME`, or `NAME@N` for the N-th
time the point is reached in one process), reaching it kills with SIGKILL at once the process
group of the pipeline and its own: `lake run` runs each job in a subprocess with a process
group of its own (its Spark JVM in it), so the whole pipeline dies as it would in a power cut,
with no `finally`, no exit handler and no flush. The pipeline's group is the one of the first
process that imports this module with LAKE_FAILPOINT set (LAKE_FAILPOINT_GROUP, which its
subprocesses inherit). A point that carries a detail (the table a commit is for) is also
reached as `NAME:DETAIL`, so `delta.commit.before:orders` stops only at the commits of the
table orders. Unset, a point costs one environment lookup.

The points:
- `delta.commit.before[:TABLE]`: DeltaTableIO.write and merge_by_key, before the write
  starts.
- `delta.write.files[:TABLE]`: inside DeltaTableIO.write (and a merge that creates its table):
  the data files are written into the table's folder, the commit that would reference them is
  not made; the process dies in a Spark task, before the write job ends.
- `delta.commit.after[:TABLE]`: the commit is made, the caller has not yet seen its version.
- `gold.between_tables`: publish_predictions has committed reorder_scores, not next_basket.
- `ingest.after_rename`: ingest has renamed a file into the raw zone, not yet written the
  manifest record of it.
- `raw_to_clean.after_commits[:TABLE]`: job 1 has committed a table's clean and quarantine
  rows, not yet recorded its raw files in the ledger.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ENVIRONMENT_VARIABLE = "LAKE_FAILPOINT"
GROUP_VARIABLE = "LAKE_FAILPOINT_GROUP"
WRITE_FILES = "delta.write.files"
DATA_FILE_WAIT_SECONDS = 30.0
"""How long the task that reached delta.write.files waits for a data file of the write to exist."""

_reached: Counter[str] = Counter()
if os.environ.get(ENVIRONMENT_VARIABLE):
    os.environ.setdefault(GROUP_VARIABLE, str(os.getpgrp()))


def triggered(name: str, detail: str | None = None) -> bool:
    """Whether LAKE_FAILPOINT names this point and this is the occurrence it names (counted
    per process); for a point where the caller arranges the death itself."""
    setting = os.environ.get(ENVIRONMENT_VARIABLE)
    if not setting:
        return False
    point, _, occurrence = setting.partition("@")
    if point not in ((name,) if detail is None else (name, f"{name}:{detail}")):
        return False
    _reached[point] += 1
    return _reached[point] == int(occurrence or 1)


def reach(name: str, detail: str | None = None) -> None:
    """Die here when LAKE_FAILPOINT names this point and this is the occurrence it names."""
    if triggered(name, detail):
        kill_process_groups(process_groups())


def process_groups() -> list[int]:
    """The process groups a failpoint kills: the pipeline's, then this process's own."""
    own = os.getpgrp()
    pipeline = int(os.environ.get(GROUP_VARIABLE, own))
    return [pipeline, own] if pipeline != own else [own]


def kill_process_groups(groups: list[int]) -> None:
    for group in groups:
        os.killpg(group, signal.SIGKILL)


def die_after_data_files(table_folder: str, existing: frozenset[str], groups: list[int]):
    """The function of a `mapInArrow` that passes every batch on, then waits until a data file
    that was not in `existing` is in `table_folder` and kills the process `groups` (the
    driver's process_groups). It runs in a Spark Python worker, in a process group of its own."""

    def passed_on(batches: Iterator) -> Iterator:
        yield from batches
        deadline = time.monotonic() + DATA_FILE_WAIT_SECONDS
        while time.monotonic() < deadline and not set(data_files(table_folder)) - existing:
            time.sleep(0.01)
        kill_process_groups(groups)

    return passed_on


def data_files(table_folder: str) -> list[str]:
    """The Parquet files under a local table folder, outside its log."""
    root = Path(table_folder)
    return [str(path) for path in root.rglob("*.parquet") if "_delta_log" not in path.relative_to(root).parts]
