"""Failures of the environment, not of the data or the code: a full disk, a read-only or
forbidden lake, a lake root that is not a folder, missing AWS credentials, an interrupt. Each
is told as one line with an exit code of its own, those of sysexits.h, so that a script can
tell a full disk from bad input (the table of codes: instacart_lake/cli.py and the README).
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import boto3
from botocore.exceptions import NoCredentialsError

from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.locations import uri_to_path

EX_FAILED = 1
EX_UNAVAILABLE = 69
EX_IOERR = 74
EX_NOPERM = 77
EX_CONFIG = 78
EX_INTERRUPTED = 130
EX_TERMINATED = 143
INTERRUPTIONS = frozenset({EX_INTERRUPTED, EX_TERMINATED})
"""The exit codes of a stop asked for (128 + the signal), told as such, not as an error."""

NO_SPACE_TEXT = "No space left on device"
"""How a full disk reads in a job process's output: strerror(ENOSPC), as Java's IOException says it too."""
PERMISSION_ERRNOS = {errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
                     errno.EROFS: "read-only file system"}
NO_CREDENTIALS = ("no AWS credentials for the aws profile: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                  "or AWS_PROFILE, as for the AWS CLI")


@dataclass(frozen=True)
class Failure:
    """What the CLI prints (after `lake <command>: `) and the exit code it returns."""

    message: str
    exit_code: int


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as an interrupt so that a run stops as on Ctrl-C: its jobs killed, its
    record saved as interrupted."""


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block (in the main thread), SIGTERM raises Terminated."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class LakeRootNotAFolder(LakeError):
    exit_code = EX_CONFIG


class NoAwsCredentials(LakeError):
    exit_code = EX_UNAVAILABLE


def local_lake_root(lake: Lake) -> Path | None:
    """The folder of a local lake; None for one in S3."""
    return Path(uri_to_path(lake.locations.zone_uri("raw"))).parent if lake.config.is_local else None


def check_lake_root(root: Path) -> None:
    """Refuse a local lake root that is a file, or lies under one."""
    existing = next(folder for folder in (root, *root.parents) if folder.exists())
    if not existing.is_dir():
        where = "is a file" if existing == root else f"lies under {existing}, a file"
        raise LakeRootNotAFolder(f"the lake root {root} {where}, not a folder: give --lake-root (or LAKE_ROOT) "
                                 "a folder")


def check_aws_credentials() -> None:
    """Refuse to start on the aws profile when the standard AWS chain finds no credentials
    (S3 through pyarrow would fail later with a network or access error that does not say so)."""
    if boto3.Session().get_credentials() is None:
        raise NoAwsCredentials(NO_CREDENTIALS)


def classify(error: BaseException, lake_root: Path | None = None) -> Failure | None:
    """The failure to report for `error`, or None for an exception that is neither a LakeError
    nor an OSError of the system (a bug, whose traceback is worth seeing). The environment
    failure is looked for in `error` and in the exceptions it was raised from or during, so
    that a LakeError that says where keeps its words and takes the exit code of the OSError
    under it."""
    if isinstance(error, Terminated):
        return Failure("terminated", EX_TERMINATED)
    if isinstance(error, KeyboardInterrupt):
        return Failure("interrupted", EX_INTERRUPTED)
    for cause in _chain(error):
        if isinstance(cause, NoCredentialsError):
            return Failure(_own_words(error) or NO_CREDENTIALS, EX_UNAVAILABLE)
        if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
            return Failure(_own_words(error) or no_space_message(_path_of(cause) or lake_root), EX_IOERR)
        if isinstance(cause, OSError) and cause.errno in PERMISSION_ERRNOS:
            words = f"{PERMISSION_ERRNOS[cause.errno]}: {_path_of(cause) or lake_root or cause}"
            return Failure(_own_words(error) or words, EX_NOPERM)
    if isinstance(error, LakeError):
        return Failure(str(error), getattr(error, "exit_code", EX_FAILED))
    if isinstance(error, OSError) and error.errno is not None:
        words = os.strerror(error.errno).lower() + (f": {_path_of(error)}" if _path_of(error) else f" ({error})")
        return Failure(words, EX_IOERR)
    return None


def exit_code_of_message(message: str) -> int:
    """The exit code of a failure known only by its message (a job process's error)."""
    return EX_IOERR if NO_SPACE_TEXT.lower() in message.lower() else EX_FAILED


def no_space_message(path: Path | str | None) -> str:
    """`no space left on device` with where, and the bytes still free there when known."""
    if path is None:
        return NO_SPACE_TEXT.lower()
    free = free_bytes(Path(path))
    return f"{NO_SPACE_TEXT.lower()}: {path}" + (f" ({free:,} bytes free)" if free is not None else "")


def free_bytes(path: Path) -> int | None:
    existing = next((folder for folder in (path, *path.parents) if folder.exists()), None)
    try:
        return shutil.disk_usage(existing).free if existing is not None else None
    except OSError:
        return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _own_words(error: BaseException) -> str | None:
    return str(error) if isinstance(error, LakeError) else None


def _path_of(error: OSError) -> str | None:
    return os.fsdecode(error.filename) if error.filename is not None else None
