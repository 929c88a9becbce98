"""Wall time and peak memory of a command and all its processes (Spark's JVM, worker
processes), for the benchmark scripts.

The memory of the child and of every process below it is sampled from /proc and the largest
sum kept, twice: every 50 ms as resident memory (RSS, an upper bound: a page shared by forked
processes, such as Spark's Python workers, counts once per process) and every second as
proportional memory (PSS, where a shared page is split between the processes sharing it, so that the sum
is the memory the tree really holds).
"""

from __future__ import annotations

import datetime as dt
import resource
import subprocess
import time
from pathlib import Path

SAMPLE_SECONDS = 0.05
PSS_EVERY = 20
"""PSS is sampled every 20th time (once a second): the kernel walks every page of a process to
sum it, which for Spark's JVM costs a good part of a core at the RSS sampling rate."""


def _descendants(root: int) -> set[int]:
    """The process `root` and every live process below it, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    family = {root}
    grew = True
    while grew:
        grown = family | {pid for pid, parent in parents.items() if parent in family}
        grew = len(grown) > len(family)
        family = grown
    return family


def _resident_bytes(pids: set[int]) -> int:
    return _summed(pids, "status", "VmRSS:")


def _proportional_bytes(pids: set[int]) -> int:
    """Summed PSS (smaps_rollup: Linux 4.14 and later)."""
    return _summed(pids, "smaps_rollup", "Pss:")


def _summed(pids: set[int], file_name: str, field: str) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/{file_name}").read_text().splitlines():
                if line.startswith(field):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
    return total


def run_measured(command: list[str], **popen_options) -> dict:
    """Run `command`; its wall time, the peak summed memory of its process tree (and when the
    PSS peak was, in UTC), its exit code."""
    started = time.perf_counter()
    child = subprocess.Popen(command, **popen_options)
    peak = peak_pss = 0
    peak_pss_at = None
    samples = 0
    while child.poll() is None:
        family = _descendants(child.pid)
        peak = max(peak, _resident_bytes(family))
        if samples % PSS_EVERY == 0:
            pss = _proportional_bytes(family)
            if pss > peak_pss:
                peak_pss, peak_pss_at = pss, dt.datetime.now(dt.timezone.utc)
        samples += 1
        time.sleep(SAMPLE_SECONDS)
    wall = time.perf_counter() - started
    largest_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {"wall_seconds": round(wall, 2), "peak_tree_rss_bytes": peak,
            "peak_tree_rss_gib": round(peak / 1024 ** 3, 2),
            "peak_tree_pss_bytes": peak_pss, "peak_tree_pss_gib": round(peak_pss / 1024 ** 3, 2),
            "peak_tree_pss_at": peak_pss_at.isoformat(timespec="seconds") if peak_pss_at else None,
            "largest_process_rss_bytes": largest_child, "exit_code": child.returncode}
