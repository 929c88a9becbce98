"""Wall time and peak memory of a command and all its processes (Spark's JVM, worker
processes), for the benchmark scripts.

The resident memory of the child and of every process below it is sampled from /proc every
50 ms and the largest sum kept (an upper bound: shared pages count once per process).
"""

from __future__ import annotations

import resource
import subprocess
import time
from pathlib import Path

SAMPLE_SECONDS = 0.05


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
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def run_measured(command: list[str], **popen_options) -> dict:
    """Run `command`; its wall time, the peak summed memory of its process tree, its exit code."""
    started = time.perf_counter()
    child = subprocess.Popen(command, **popen_options)
    peak = 0
    while child.poll() is None:
        peak = max(peak, _resident_bytes(_descendants(child.pid)))
        time.sleep(SAMPLE_SECONDS)
    wall = time.perf_counter() - started
    largest_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {"wall_seconds": round(wall, 2), "peak_tree_rss_bytes": peak,
            "peak_tree_rss_gib": round(peak / 1024 ** 3, 2),
            "largest_process_rss_bytes": largest_child, "exit_code": child.returncode}
