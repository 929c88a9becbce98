"""`lake run` as an event loop: every event goes to the handler that the definition names for
its kind, the job runs that the handler starts through the local services are run one by one
(instacart_lake.orchestration.job_execution), and the state-change event of each run's end is
delivered in turn, until no job run is left. Events of the stage asked to stop after (--until)
and of those after it are not delivered: the chain stops there. A handler that raises is
counted as the Lambda service counts it (AWS/Lambda Errors), in the metrics of the job run
whose event it got, and the error goes on.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import urlparse

from instacart_lake import storage
from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.locations import is_local, uri_to_path
from instacart_lake.monitoring import handler_error_record, write_emf_lines
from instacart_lake.orchestration import events
from instacart_lake.orchestration.definition import Definition, Stage
from instacart_lake.orchestration.job_execution import execute
from instacart_lake.orchestration.job_runs import JobRun, JobRunStore
from instacart_lake.orchestration.lambda_context import LocalLambdaContext
from instacart_lake.orchestration.local_services import LOCAL_REGION, LocalGlue

HANDLER_LOG_LEVEL = "WARNING"


@contextmanager
def lake_environment(lake: Lake, settings: Mapping[str, str]) -> Iterator[None]:
    """The lake (LAKE_PROFILE, and LAKE_ROOT for a local lake) and the handlers' `settings` in
    the environment, where the handlers, the local services and the job processes read them,
    as the template sets a Lambda's; the environment as it was afterwards."""
    values = {"POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", HANDLER_LOG_LEVEL),
              "LAKE_PROFILE": lake.config.profile, **settings}
    raw_zone = lake.locations.zone_uri("raw")
    if lake.config.is_local and is_local(raw_zone):
        values["LAKE_ROOT"] = str(Path(uri_to_path(raw_zone)).parent)
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def batch_marker_event(lake: Lake, marker_uri: str) -> dict[str, Any]:
    """The S3 event notification of a batch marker put in the raw zone (its bucket on AWS; the
    zone's folder stands for the bucket locally)."""
    zone = lake.locations.zone_uri("raw")
    parsed = urlparse(zone)
    bucket = parsed.netloc if parsed.scheme == "s3" else PurePosixPath(parsed.path).name
    key = marker_uri.removeprefix(f"{zone}/")
    return events.s3_object_created(bucket, key, storage.read_bytes(marker_uri), lake.config.region or LOCAL_REGION)


def describe_event(event: Mapping[str, Any]) -> str:
    """An event's kind and id, e.g. `Glue Job State Change 0f3c...`."""
    if "Records" in event:
        record = event["Records"][0]
        return f"{record['eventName']} s3://{record['s3']['bucket']['name']}/{record['s3']['object']['key']}"
    return f"{event['detail-type']} {event['id']}"


class LocalEventLoop:
    """`handled` maps a job run id (or `ingest`) to what the handler of its end event returned."""

    def __init__(self, lake: Lake, definition: Definition, until: str | None,
                 on_start: Callable[[JobRun], None] = lambda run: None,
                 on_end: Callable[[JobRun], None] = lambda run: None):
        self.lake = lake
        self.definition = definition
        self.until = until
        self.on_start = on_start
        self.on_end = on_end
        self.store = JobRunStore(lake)
        self.queue: list[str] = []
        self.started: list[str] = []
        self.handled: dict[str, dict[str, Any]] = {}

    def stage_of(self, run: JobRun) -> str:
        return run.job if run.kind == "glue_job" else self.definition.stage_running(run.kind).name

    def start_stage(self, stage: Stage, crawler: str) -> None:
        """Start a stage's Glue job or crawler directly, as a user would from the console."""
        before = set(self.store.all())
        if stage.runs == "glue_job":
            LocalGlue().start_job_run(JobName=stage.name, Arguments={"--lake_profile": self.lake.config.profile})
        elif stage.runs == "crawler":
            LocalGlue().start_crawler(Name=crawler)
        else:
            raise LakeError(f"--from {stage.name}: its {stage.runs.replace('_', ' ')} starts on the event of the "
                            "stage before it; start from that stage")
        self._adopt(before, "lake run --from")

    def deliver(self, event: Mapping[str, Any], from_stage: str, emitted_by: str) -> None:
        names = self.definition.stage_names
        if self.until is not None and names.index(from_stage) >= names.index(self.until):
            return
        kind = self.definition.event_kind(event)
        if kind is None:
            return
        before = set(self.store.all())
        try:
            self.handled[emitted_by] = kind.handler_function()(dict(event), LocalLambdaContext(kind.name))
        except Exception:
            write_emf_lines(self.lake, emitted_by, [handler_error_record(kind.name)])
            raise
        self._adopt(before, describe_event(event))

    def run(self) -> None:
        while self.queue:
            run = self.store.get(self.queue.pop(0))
            self.on_start(run)
            event = execute(self.lake, self.store, run)
            self.on_end(run)
            self.deliver(event, self.stage_of(run), run.run_id)

    def _adopt(self, before: set[str], started_by: str) -> None:
        """Queue the job runs started since `before`, noting what started them."""
        new = sorted((run for run_id, run in self.store.all().items() if run_id not in before),
                     key=lambda run: run.created_on)
        for run in new:
            run.started_by = started_by
            self.store.save(run)
            self.queue.append(run.run_id)
            self.started.append(run.run_id)
