"""Small files at URIs for the ML stage: local ones on the filesystem, s3:// ones through a
boto3 S3 client (the client the handlers hold, and the one moto fakes).

Local reads do not go through instacart_lake.storage.read_bytes: pyarrow's input streams
decompress `.gz` files by default, and the stage reads .tar.gz archives as they are."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from instacart_lake import storage
from instacart_lake.locations import uri_to_path
from instacart_lake.ml.errors import MLStageError


def _bucket_and_key(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def _is_s3(uri: str) -> bool:
    return urlparse(uri).scheme == "s3"


def _require_client(uri: str, s3: Any) -> Any:
    if s3 is None:
        raise MLStageError(f"{uri}: an S3 client is needed to reach this artifact")
    return s3


def read_artifact(uri: str, s3: Any = None) -> bytes:
    if not _is_s3(uri):
        path = Path(uri_to_path(uri))
        if not path.is_file():
            raise MLStageError(f"{uri}: artifact not found")
        return path.read_bytes()
    bucket, key = _bucket_and_key(uri)
    try:
        response = _require_client(uri, s3).get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        raise MLStageError(f"{uri}: cannot read artifact ({error.response['Error']['Code']})") from error
    return response["Body"].read()


def write_artifact(uri: str, data: bytes, s3: Any = None) -> None:
    """Write whole bytes: readers see the old file or the new one (see storage.write_bytes_atomic)."""
    if not _is_s3(uri):
        storage.write_bytes_atomic(uri, data)
        return
    bucket, key = _bucket_and_key(uri)
    _require_client(uri, s3).put_object(Bucket=bucket, Key=key, Body=data)


def pack_tar_gz(files: Mapping[str, Path]) -> bytes:
    """A .tar.gz of `files` (name in the archive -> file on disk), in name order, with fixed
    times and modes, so the bytes depend on the names and contents alone."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed:
        with tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for name in sorted(files):
                data = files[name].read_bytes()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o644
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
