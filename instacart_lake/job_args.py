"""Glue-style job arguments with getResolvedOptions semantics, and job run ids.

On Glue `awsglue.utils.getResolvedOptions` is used; elsewhere `resolve_options` behaves the
same way for what jobs rely on: `--NAME value` or `--NAME=value`, every named option
required, unknown options ignored, the last occurrence wins, and `JOB_RUN_ID` added when
Glue did not pass it.

A job argument `--LAKE_<KEY> value` sets a configuration key as the environment variable of
the same name does (Glue jobs have no environment of their own): the job definitions of
cloudformation/ pass the deployed stage's buckets and region that way.
"""

from __future__ import annotations

import datetime as dt
import secrets

from instacart_lake.errors import LakeError


def new_job_run_id(now: dt.datetime | None = None) -> str:
    """A run id in Glue's shape (`jr_` and 64 hex digits), sortable by time locally."""
    moment = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%d%H%M%S")
    return f"jr_{moment}{secrets.token_hex(25)}"


def configuration_overrides(argv: list[str]) -> dict[str, str]:
    """The `--LAKE_<KEY> value` (or `--LAKE_<KEY>=value`) arguments of `argv`, as LAKE_<KEY>."""
    overrides: dict[str, str] = {}
    for index, token in enumerate(argv):
        if not token.startswith("--LAKE_"):
            continue
        name, separator, value = token[2:].partition("=")
        if not separator:
            value = argv[index + 1] if index + 1 < len(argv) and not argv[index + 1].startswith("--") else ""
        overrides[name] = value
    return overrides


def resolve_options(argv: list[str], option_names: list[str]) -> dict[str, str]:
    """The values of `option_names` (without `--`) in `argv`, like getResolvedOptions."""
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        getResolvedOptions = None
    if getResolvedOptions is not None:
        return getResolvedOptions(argv, option_names)
    found: dict[str, str] = {}
    index = 0
    while index < len(argv):
        token = argv[index]
        index += 1
        if not token.startswith("--"):
            continue
        name, separator, value = token[2:].partition("=")
        if not separator:
            if index < len(argv) and not argv[index].startswith("--"):
                value = argv[index]
                index += 1
            else:
                value = ""
        found[name] = value
    missing = [name for name in option_names if name not in found]
    if missing:
        raise LakeError("missing job argument(s): " + ", ".join(f"--{name}" for name in missing))
    resolved = {name: found[name] for name in option_names}
    resolved["JOB_RUN_ID"] = found.get("JOB_RUN_ID") or new_job_run_id()
    return resolved
