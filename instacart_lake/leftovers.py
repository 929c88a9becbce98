"""What a killed run leaves in the lake, found and removed: data files in a Delta table's
folder that no commit references (a kill inside a write, after its files and before its
commit), Spark's and Hadoop's `_temporary` folders, and files in a staging folder.

Only files older than a given moment are touched. The caller passes the start of its own
job run: the lake lock (instacart_lake.lake_lock) lets one run write at a time, so an
unreferenced file older than the caller's start belongs to a run that is over, and a file of
the caller's own run is younger.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from instacart_lake import storage

if TYPE_CHECKING:
    from pyarrow import fs as pafs

LOG_FOLDER = "_delta_log"
TEMPORARY_FOLDER = "_temporary"
DATA_FILE_SUFFIX = ".parquet"
CHECKSUM_SUFFIX = ".crc"
"""Hadoop's local filesystem writes `.<name>.crc` beside every file it writes."""


@dataclass(frozen=True)
class Removed:
    """The files removed (or, in a dry run, that would be) under one location, and their bytes."""

    location: str
    files: int
    bytes: int

    def summary(self) -> str:
        return f"{self.files} file{'s' * (self.files != 1)} ({self.bytes:,} bytes)"


def remove_orphaned_files(table_uri: str, older_than: dt.datetime, dry_run: bool = False) -> Removed:
    """Remove the data files (and their checksums) in the table's folder that no commit of
    its log references, and the table's `_temporary` folders, all older than `older_than`."""
    loc = storage.resolve(table_uri)
    files = _files(loc.filesystem, loc.path)
    referenced = _referenced_paths(loc.filesystem, loc.path)
    doomed = []
    for relative, info in files.items():
        parts = relative.split("/")
        if LOG_FOLDER in parts or TEMPORARY_FOLDER in parts or _mtime(info) >= older_than:
            continue
        if relative.endswith(DATA_FILE_SUFFIX) and relative not in referenced:
            doomed.append(info)
            checksum = files.get("/".join([*parts[:-1], f".{parts[-1]}{CHECKSUM_SUFFIX}"]))
            if checksum is not None:
                doomed.append(checksum)
    orphans = _remove(loc.filesystem, table_uri, doomed, dry_run)
    temporary = remove_temporary_folders(table_uri, older_than, dry_run)
    return Removed(table_uri, orphans.files + temporary.files, orphans.bytes + temporary.bytes)


def remove_staged_files(folder_uri: str, older_than: dt.datetime, dry_run: bool = False) -> Removed:
    """Remove every file under a staging folder older than `older_than`."""
    loc = storage.resolve(folder_uri)
    doomed = [info for info in _files(loc.filesystem, loc.path).values() if _mtime(info) < older_than]
    return _remove(loc.filesystem, folder_uri, doomed, dry_run)


def remove_temporary_folders(root_uri: str, older_than: dt.datetime, dry_run: bool = False) -> Removed:
    """Remove the `_temporary` folders under a folder whose files are all older than
    `older_than` (a live write's folder has a younger file)."""
    loc = storage.resolve(root_uri)
    folders: dict[str, list] = {}
    for relative, info in _files(loc.filesystem, loc.path).items():
        parts = relative.split("/")
        if TEMPORARY_FOLDER in parts[:-1]:
            folder = "/".join(parts[:parts.index(TEMPORARY_FOLDER) + 1])
            folders.setdefault(folder, []).append(info)
    files = bytes_ = 0
    for folder, infos in folders.items():
        if any(_mtime(info) >= older_than for info in infos):
            continue
        if not dry_run:
            loc.filesystem.delete_dir(f"{loc.path.rstrip('/')}/{folder}")
        files += len(infos)
        bytes_ += sum(info.size or 0 for info in infos)
    return Removed(root_uri, files, bytes_)


def table_folders(zone_uri: str) -> list[str]:
    """The URIs of the Delta tables under a zone: the folders that hold a `_delta_log`."""
    loc = storage.resolve(zone_uri)
    base = zone_uri.rstrip("/")
    found = {relative.split(f"/{LOG_FOLDER}/")[0] for relative in _files(loc.filesystem, loc.path)
             if f"/{LOG_FOLDER}/" in relative}
    return [f"{base}/{folder}" for folder in sorted(found)]


def _files(filesystem: "pafs.FileSystem", folder: str) -> dict:
    """The files under `folder` by their path relative to it."""
    from pyarrow import fs

    base = folder.rstrip("/")
    infos = filesystem.get_file_info(fs.FileSelector(base, recursive=True, allow_not_found=True))
    return {info.path[len(base) + 1:]: info for info in infos if info.type == fs.FileType.File}


def _mtime(info) -> dt.datetime:
    moment = info.mtime
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


def _referenced_paths(filesystem: "pafs.FileSystem", table_path: str) -> set[str]:
    """The data files, relative to the table, that any add, remove or cdc action of the log
    (its JSON commits and its checkpoints) names: the files some version may read."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    log_path = f"{table_path.rstrip('/')}/{LOG_FOLDER}"
    paths: set[str] = set()
    for name, info in _files(filesystem, log_path).items():
        if "/" in name:
            continue
        if name.endswith(".json"):
            with filesystem.open_input_stream(info.path) as stream:
                for line in stream.read().decode("utf-8").splitlines():
                    action = json.loads(line) if line.strip() else {}
                    for kind in ("add", "remove", "cdc"):
                        if kind in action:
                            paths.add(unquote(action[kind]["path"]))
        elif ".checkpoint" in name and name.endswith(".parquet"):
            checkpoint = pq.read_table(info.path, filesystem=filesystem, columns=["add", "remove"])
            for kind in ("add", "remove"):
                named = pc.struct_field(checkpoint.column(kind), "path").to_pylist()
                paths.update(unquote(path) for path in named if path is not None)
    return paths


def _remove(filesystem: "pafs.FileSystem", location: str, doomed: list, dry_run: bool) -> Removed:
    if not dry_run:
        for info in doomed:
            filesystem.delete_file(info.path)
    return Removed(location, len(doomed), sum(info.size or 0 for info in doomed))
