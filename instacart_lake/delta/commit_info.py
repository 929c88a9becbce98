"""What each commit records about the run that made it, and the history entries read back.

Every commit carries JSON in its `userMetadata` (the field of Delta's commit info that the
writer option `userMetadata` sets and DESCRIBE HISTORY shows): run id, job name, the write mode
and a write id unique to the commit, by which a writer finds the version its commit got.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any, Literal, Mapping

WriteMode = Literal["overwrite", "append", "replace_partitions", "merge_by_key"]


def new_write_id() -> str:
    return f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:12]}"


def user_metadata(run_id: str, job_name: str, write_mode: WriteMode, write_id: str) -> str:
    recorded = {"run_id": run_id, "job_name": job_name, "write_mode": write_mode, "write_id": write_id}
    return json.dumps(recorded, sort_keys=True)


def history_entry(
    version: int,
    timestamp_ms: int,
    operation: str,
    user_metadata_text: str | None,
    operation_metrics: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """One commit as the table interface reports it."""
    recorded = _parse_user_metadata(user_metadata_text)
    metrics = {key: str(value) for key, value in (operation_metrics or {}).items()}
    rows = metrics.get("numOutputRows")
    return {
        "version": version,
        "timestamp": dt.datetime.fromtimestamp(timestamp_ms / 1000, tz=dt.timezone.utc),
        "operation": operation,
        "write_mode": recorded.get("write_mode"),
        "run_id": recorded.get("run_id"),
        "job_name": recorded.get("job_name"),
        "write_id": recorded.get("write_id"),
        "rows_written": int(rows) if rows is not None else None,
        "operation_metrics": metrics,
    }


def write_id_of(user_metadata_text: str | None) -> str | None:
    return _parse_user_metadata(user_metadata_text).get("write_id")


def _parse_user_metadata(text: str | None) -> dict[str, Any]:
    """Our JSON, or nothing for a commit made by another writer (free text or none)."""
    if not text:
        return {}
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
