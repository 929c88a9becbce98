"""Files at URIs (file:// locally, s3:// on AWS) through pyarrow's filesystems.

pyarrow is imported on first use: the Lambda handlers import this module (through the
catalog and the local services) without ever reaching a file through it, and Lambda's
Python runtime has no pyarrow."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, TypeVar
from urllib.parse import urlparse

from instacart_lake.aws_clients import s3_filesystem
from instacart_lake.config import load_config
from instacart_lake.errors import LakeError
from instacart_lake.locations import is_local, uri_to_path

if TYPE_CHECKING:
    from pyarrow import fs as pafs

S3_PROFILE = "aws"
"""The profile whose zones are S3 buckets: s3:// URIs are reached with its region and endpoint."""

Operation = TypeVar("Operation", bound=Callable)


def _pyarrow_fs():
    from pyarrow import fs

    return fs


def _remote_failures_reported(operation: Operation) -> Operation:
    """A remote store's failures (endpoint unreachable, bucket missing, credentials refused) as
    one-line LakeErrors about the URI; local failures stay the OSErrors they are."""

    @functools.wraps(operation)
    def reported(uri: str, *args, **kwargs):
        try:
            return operation(uri, *args, **kwargs)
        except OSError as error:
            if is_local(uri):
                raise
            raise LakeError(f"{uri}: {error}") from None

    return reported


@dataclass(frozen=True)
class Location:
    filesystem: "pafs.FileSystem"
    path: str


def resolve(uri: str) -> Location:
    if is_local(uri):
        return Location(_pyarrow_fs().LocalFileSystem(), uri_to_path(uri))
    if urlparse(uri).scheme == "s3":
        return Location(s3_filesystem(load_config(profile=S3_PROFILE)), uri.removeprefix("s3://"))
    filesystem, path = _pyarrow_fs().FileSystem.from_uri(uri)
    return Location(filesystem, path)


@_remote_failures_reported
def exists(uri: str) -> bool:
    loc = resolve(uri)
    return loc.filesystem.get_file_info(loc.path).type != _pyarrow_fs().FileType.NotFound


@_remote_failures_reported
def read_bytes(uri: str) -> bytes:
    loc = resolve(uri)
    with loc.filesystem.open_input_stream(loc.path, compression=None) as stream:
        return stream.read()


def read_text(uri: str) -> str:
    return read_bytes(uri).decode("utf-8")


@_remote_failures_reported
def write_bytes_atomic(uri: str, data: bytes) -> None:
    """Write a file so that readers see the old content or the whole new content, never a part.

    Locally the bytes go to a hidden sibling that is renamed over the target; S3 puts are atomic.
    """
    loc = resolve(uri)
    parent = loc.path.rsplit("/", 1)[0]
    loc.filesystem.create_dir(parent, recursive=True)
    if not is_local(uri):
        with loc.filesystem.open_output_stream(loc.path) as stream:
            stream.write(data)
        return
    temporary = f"{parent}/.{uuid.uuid4().hex}.tmp"
    try:
        with loc.filesystem.open_output_stream(temporary) as stream:
            stream.write(data)
        loc.filesystem.move(temporary, loc.path)
    finally:
        if loc.filesystem.get_file_info(temporary).type != _pyarrow_fs().FileType.NotFound:
            loc.filesystem.delete_file(temporary)


def write_text_atomic(uri: str, text: str) -> None:
    write_bytes_atomic(uri, text.encode("utf-8"))


@_remote_failures_reported
def list_files(uri: str, recursive: bool = True) -> list[str]:
    """URIs of the files under a folder (empty when the folder does not exist), sorted."""
    loc = resolve(uri)
    selector = _pyarrow_fs().FileSelector(loc.path, recursive=recursive, allow_not_found=True)
    infos = loc.filesystem.get_file_info(selector)
    base_uri = uri.rstrip("/")
    base_path = loc.path.rstrip("/")
    return sorted(
        base_uri + info.path[len(base_path):] for info in infos if info.type == _pyarrow_fs().FileType.File
    )


@_remote_failures_reported
def delete(uri: str) -> None:
    loc = resolve(uri)
    info = loc.filesystem.get_file_info(loc.path)
    if info.type == _pyarrow_fs().FileType.Directory:
        loc.filesystem.delete_dir(loc.path)
    elif info.type == _pyarrow_fs().FileType.File:
        loc.filesystem.delete_file(loc.path)


@_remote_failures_reported
def move(source_uri: str, target_uri: str) -> None:
    """Rename a file into place (atomic on a local filesystem; a copy then delete on S3)."""
    source = resolve(source_uri)
    target = resolve(target_uri)
    target.filesystem.create_dir(target.path.rsplit("/", 1)[0], recursive=True)
    source.filesystem.move(source.path, target.path)
