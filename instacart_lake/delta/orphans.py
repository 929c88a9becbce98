"""Remove the files of writes that never committed.

A data file is an orphan when no version of the table's log references it (no add, remove or cdc
action in any commit or checkpoint still in `_delta_log`) and it is older than a cutoff: a write
that died before its commit leaves such files, and the cutoff keeps the files of a write still in
progress (which are not referenced yet either). The folder is listed before the log is read, so a
commit that lands in between has its files counted as referenced.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import posixpath
from urllib.parse import unquote

import pyarrow.parquet as pq
from deltalake import DeltaTable
from pyarrow import fs as pafs

from instacart_lake import storage
from instacart_lake.delta.paths import deltars_location
from instacart_lake.errors import LakeError
from instacart_lake.locations import is_local

log = logging.getLogger(__name__)

LOG_FOLDER = "_delta_log"
FILE_ACTIONS = ("add", "remove", "cdc")


def remove_orphans(table_uri: str, older_than: dt.timedelta) -> list[str]:
    """Delete the unreferenced files under the table folder older than `older_than`; their URIs."""
    location = storage.resolve(table_uri)
    if not DeltaTable.is_deltatable(deltars_location(table_uri)):
        raise LakeError(f"{table_uri}: no Delta table there")
    reader_version = DeltaTable(deltars_location(table_uri)).protocol().min_reader_version
    if reader_version > 1:
        raise LakeError(
            f"{table_uri}: reader version {reader_version} tables may hold files this cleanup does not know; "
            "use VACUUM"
        )
    root = location.path.rstrip("/")
    cutoff_ns = int((dt.datetime.now(dt.timezone.utc) - older_than).timestamp() * 1e9)
    listing = location.filesystem.get_file_info(pafs.FileSelector(root, recursive=True))
    files = {info.path[len(root) + 1:]: info.mtime_ns for info in listing if info.type == pafs.FileType.File}
    candidates = {path: mtime for path, mtime in files.items() if not path.startswith(f"{LOG_FOLDER}/")}
    referenced = referenced_files(table_uri)
    orphans = sorted(
        path
        for path, mtime_ns in candidates.items()
        if mtime_ns < cutoff_ns and path not in referenced and _checksum_owner(path) not in referenced
    )
    for path in orphans:
        location.filesystem.delete_file(f"{root}/{path}")
    if is_local(table_uri):
        _remove_empty_folders(location.filesystem, root, orphans)
    log.info("removed %d orphan files from %s", len(orphans), table_uri)
    return [f"{table_uri.rstrip('/')}/{path}" for path in orphans]


def referenced_files(table_uri: str) -> set[str]:
    """Table-relative paths (decoded) of every file an action in the log still references."""
    log_location = storage.resolve(f"{table_uri.rstrip('/')}/{LOG_FOLDER}")
    infos = log_location.filesystem.get_file_info(pafs.FileSelector(log_location.path, recursive=False))
    paths: set[str] = set()
    for info in infos:
        name = info.base_name
        if name.startswith("."):
            continue
        if name.endswith((".json", ".json.tmp")):
            paths.update(_json_log_paths(log_location.filesystem, info.path))
        elif ".checkpoint." in name and name.endswith(".parquet"):
            paths.update(_checkpoint_paths(log_location.filesystem, info.path))
    return {unquote(path) for path in paths}


def _json_log_paths(filesystem: pafs.FileSystem, path: str) -> set[str]:
    with filesystem.open_input_stream(path) as stream:
        lines = stream.read().decode("utf-8").splitlines()
    paths = set()
    for line in filter(None, lines):
        action = json.loads(line)
        for kind in FILE_ACTIONS:
            if isinstance(action.get(kind), dict) and "path" in action[kind]:
                paths.add(action[kind]["path"])
    return paths


def _checkpoint_paths(filesystem: pafs.FileSystem, path: str) -> set[str]:
    kinds = [kind for kind in FILE_ACTIONS if kind in pq.read_schema(path, filesystem=filesystem).names]
    paths = set()
    for kind in kinds:
        column = pq.read_table(path, columns=[f"{kind}.path"], filesystem=filesystem).column(0)
        paths.update(value for value in column.to_pylist() if value)
    return paths


def _checksum_owner(path: str) -> str:
    """The data file a Hadoop checksum sidecar `.<name>.crc` belongs to (or the path itself)."""
    folder, name = posixpath.split(path)
    if name.startswith(".") and name.endswith(".crc"):
        return posixpath.join(folder, name[1:-len(".crc")])
    return path


def _remove_empty_folders(filesystem: pafs.FileSystem, root: str, removed: list[str]) -> None:
    folders = {posixpath.dirname(path) for path in removed} - {""}
    for folder in sorted(folders | {parent for f in folders for parent in _parents(f)}, key=len, reverse=True):
        full = f"{root}/{folder}"
        contents = filesystem.get_file_info(pafs.FileSelector(full, allow_not_found=True))
        if not contents and filesystem.get_file_info(full).type == pafs.FileType.Directory:
            filesystem.delete_dir(full)


def _parents(folder: str) -> list[str]:
    parts = folder.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]
