"""Files at URIs (file:// locally, s3:// on AWS) through pyarrow's filesystems."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pyarrow import fs as pafs

from instacart_lake.locations import is_local, uri_to_path


@dataclass(frozen=True)
class Location:
    filesystem: pafs.FileSystem
    path: str


def resolve(uri: str) -> Location:
    if is_local(uri):
        return Location(pafs.LocalFileSystem(), uri_to_path(uri))
    filesystem, path = pafs.FileSystem.from_uri(uri)
    return Location(filesystem, path)


def exists(uri: str) -> bool:
    loc = resolve(uri)
    return loc.filesystem.get_file_info(loc.path).type != pafs.FileType.NotFound


def read_bytes(uri: str) -> bytes:
    loc = resolve(uri)
    with loc.filesystem.open_input_stream(loc.path, compression=None) as stream:
        return stream.read()


def read_text(uri: str) -> str:
    return read_bytes(uri).decode("utf-8")


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
        if loc.filesystem.get_file_info(temporary).type != pafs.FileType.NotFound:
            loc.filesystem.delete_file(temporary)


def write_text_atomic(uri: str, text: str) -> None:
    write_bytes_atomic(uri, text.encode("utf-8"))


def list_files(uri: str, recursive: bool = True) -> list[str]:
    """URIs of the files under a folder (empty when the folder does not exist), sorted."""
    loc = resolve(uri)
    selector = pafs.FileSelector(loc.path, recursive=recursive, allow_not_found=True)
    infos = loc.filesystem.get_file_info(selector)
    base_uri = uri.rstrip("/")
    base_path = loc.path.rstrip("/")
    return sorted(
        base_uri + info.path[len(base_path):] for info in infos if info.type == pafs.FileType.File
    )


def delete(uri: str) -> None:
    loc = resolve(uri)
    info = loc.filesystem.get_file_info(loc.path)
    if info.type == pafs.FileType.Directory:
        loc.filesystem.delete_dir(loc.path)
    elif info.type == pafs.FileType.File:
        loc.filesystem.delete_file(loc.path)


def move(source_uri: str, target_uri: str) -> None:
    """Rename a file into place (atomic on a local filesystem; a copy then delete on S3)."""
    source = resolve(source_uri)
    target = resolve(target_uri)
    target.filesystem.create_dir(target.path.rsplit("/", 1)[0], recursive=True)
    source.filesystem.move(source.path, target.path)
