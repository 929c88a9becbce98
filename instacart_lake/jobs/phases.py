"""Where a job's time goes: the seconds of each phase of each table, kept in the job's results
(so `lake status --json` and the benchmarks show a profile per phase), logged as each phase
ends, and set as the Spark job description while it runs, so that the Spark UI and the event
log name every Spark job by the table and phase it belongs to."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Iterator

from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


class PhaseClock:
    """Seconds per table and phase of one job run."""

    def __init__(self, spark: SparkSession, job_name: str):
        self.spark = spark
        self.job_name = job_name
        self.seconds: dict[str, dict[str, float]] = defaultdict(dict)

    @contextmanager
    def phase(self, table: str, phase: str) -> Iterator[None]:
        context = self.spark.sparkContext
        context.setJobDescription(f"{self.job_name} {table}: {phase}")
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds = round(time.perf_counter() - started, 2)
            self.seconds[table][phase] = round(self.seconds[table].get(phase, 0.0) + seconds, 2)
            context.setJobDescription(None)
            log.info("%s %s: %s took %.1f s", self.job_name, table, phase, seconds)

    def of(self, table: str) -> dict[str, float]:
        return dict(self.seconds.get(table, {}))
