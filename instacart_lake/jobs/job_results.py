"""What a Glue job run reports: its counts per table and its details (quality results, the
versions it read and wrote), kept in the lake's meta location under the job run id, where
`lake status` reads them (Glue itself keeps no such result of a run)."""

from __future__ import annotations

import json
from typing import Any, Mapping

from instacart_lake import storage
from instacart_lake.context import Lake


def record_job_results(lake: Lake, job_run_id: str, results: Mapping[str, Any]) -> None:
    storage.write_text_atomic(lake.locations.job_results_uri(job_run_id),
                              json.dumps(results, indent=1, sort_keys=True, default=str))


def read_job_results(lake: Lake, job_run_id: str) -> dict[str, Any]:
    """{"tables": {...}, "details": {...}} of the run; empty when the run reported nothing."""
    uri = lake.locations.job_results_uri(job_run_id)
    if not storage.exists(uri):
        return {}
    return json.loads(storage.read_text(uri))
