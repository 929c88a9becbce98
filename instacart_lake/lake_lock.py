"""The lake lock: one `lake run` or `lake ingest` at a time on a lake.

Two at once would both create the same tables, both land a file as version 1, and one's
ingest manifest would lose the other's records. The commands take the lock for their whole
duration (`hold`); the functions they call never do, so the jobs that `lake run` starts in
subprocesses run under their run's lock without asking for it. A second command is refused
at once (LakeLocked, exit code 75, EX_TEMPFAIL) naming the holder, or waits for it.
`lake stream deliver` does not take it, as Firehose takes no lock on AWS: it writes only new
objects, each whole under a name of its own, and a checkpoint of its own, never the manifest
or a ledger; job 1 takes each object once through its ledger, in this run or the next. Held for
the whole of `--follow`, the lock would keep every run out.

Local lake (meta folder on this machine): `fcntl.flock` on `<meta>/lake.lock`, which the
kernel releases when the holder's process ends, however it ends; the holder record
`<meta>/lake.lock.json` (run id, PID, host, command, start) says who holds it. A record
whose lock is free was left by a holder that died: a stale lock, taken over with a note.

S3 meta (aws profile): the holder record is the lock, created with a conditional put
(`If-None-Match: *`), which only one of two takers wins. A record whose holder ran on this
host and whose process is gone is stale: deleted only if it is still that record (`If-Match`
on its ETag), then created again. A holder on another host cannot be checked, so its lock
stays until it is released (or its record is deleted by hand).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Callable, Iterator
from urllib.parse import urlparse

from instacart_lake import storage
from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.locations import is_local, uri_to_path

EX_TEMPFAIL = 75
LOCK_FILE = "lake.lock"
HOLDER_FILE = "lake.lock.json"
POLL_SECONDS = 0.25
SETTLE_SECONDS = 2.0
"""How long a busy lock may show no live holder record (a taker between its lock and its
record) before it is refused as it is."""
PRECONDITION_FAILED = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})

Note = Callable[[str], None]


class LakeLocked(LakeError):
    """Another run or ingest holds the lake lock."""

    exit_code = EX_TEMPFAIL


@dataclass(frozen=True)
class Holder:
    """Who holds the lake lock."""

    run_id: str
    pid: int
    host: str
    command: str
    started_at: str

    def is_alive(self) -> bool:
        """False when the holder ran on this host and its process is gone (or a zombie);
        True otherwise, also for a holder on another host, which cannot be checked."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not _is_zombie(self.pid)

    def describe(self) -> str:
        return f"run {self.run_id} (PID {self.pid} on {self.host}, `{self.command}` since {self.started_at})"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Holder | None":
        """The record, or None for one that is empty or cut short."""
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError):
            return None


def current_holder(lake: Lake) -> Holder | None:
    """The holder of the lake lock now; None when nobody holds it (a stale record of a dead
    holder of a local lock included)."""
    record_uri = lake.locations.meta_uri(HOLDER_FILE)
    if not is_local(record_uri):
        return _S3Record(lake).read()[0]
    holder = _read_record(record_uri)
    if holder is None or not _local_lock_busy(_lock_path(lake)):
        return None
    return holder


@contextmanager
def hold(lake: Lake, run_id: str, command: str, wait_seconds: float | None = None,
         on_note: Note | None = None) -> Iterator[Holder]:
    """Hold the lake lock as `run_id` for the block. A held lock is refused at once
    (LakeLocked) or, with `wait_seconds`, waited for that long (math.inf: until it is free).
    `on_note` gets a line when the lock is waited for or taken over from a dead holder."""
    holder = Holder(run_id=run_id, pid=os.getpid(), host=socket.gethostname(), command=command,
                    started_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    deadline = time.monotonic() + (wait_seconds if wait_seconds is not None else 0.0)
    waiting = _Waiting(lake, wait_seconds, deadline, on_note or (lambda line: None))
    if is_local(lake.locations.meta_uri(LOCK_FILE)):
        with _local_lock(lake, holder, waiting):
            yield holder
    else:
        with _s3_lock(lake, holder, waiting):
            yield holder


@dataclass
class _Waiting:
    """A taker's patience: refuse at once, or wait until a deadline, saying so once."""

    lake: Lake
    wait_seconds: float | None
    deadline: float
    on_note: Note
    announced: bool = False
    busy_since: float | None = None

    def busy(self, holder: Holder | None) -> None:
        """The lock is busy: return after a pause to try again, or raise LakeLocked."""
        now = time.monotonic()
        self.busy_since = self.busy_since if self.busy_since is not None else now
        settling = (holder is None or not holder.is_alive()) and now - self.busy_since < SETTLE_SECONDS
        if not settling and now >= self.deadline:
            raise LakeLocked(self._refusal(holder))
        if not settling and not self.announced:
            self.on_note(f"waiting for the lake lock, held by {_who(holder)}")
            self.announced = True
        time.sleep(POLL_SECONDS)

    def _refusal(self, holder: Holder | None) -> str:
        where = _lock_uri(self.lake)
        if self.wait_seconds is None:
            return (f"{where}: the lake is locked by {_who(holder)}: one run or ingest at a time "
                    "(--wait [SECONDS] waits for it)")
        return f"{where}: still locked after {self.wait_seconds:g} s by {_who(holder)}"


def note_on_stderr(line: str) -> None:
    """What the commands do with the lock's notes: one line on stderr, beside their output."""
    print(f"lake: {line}", file=sys.stderr)


def _who(holder: Holder | None) -> str:
    return holder.describe() if holder is not None else "another process (no holder record)"


def _stale_note(holder: Holder) -> str:
    return f"took over the lake lock of {holder.describe()}: that process is gone"


def _lock_uri(lake: Lake) -> str:
    """What holds the lock: the flock's file locally, the holder record on S3."""
    uri = lake.locations.meta_uri(LOCK_FILE)
    return uri if is_local(uri) else lake.locations.meta_uri(HOLDER_FILE)


def _lock_path(lake: Lake) -> str:
    return uri_to_path(lake.locations.meta_uri(LOCK_FILE))


def _read_record(uri: str) -> Holder | None:
    return Holder.from_json(storage.read_text(uri)) if storage.exists(uri) else None


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _local_lock_busy(lock_path: str) -> bool:
    """Whether some open file holds the flock (one of this process's included)."""
    if not os.path.exists(lock_path):
        return False
    descriptor = os.open(lock_path, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


@contextmanager
def _local_lock(lake: Lake, holder: Holder, waiting: _Waiting) -> Iterator[None]:
    lock_path = _lock_path(lake)
    record_uri = lake.locations.meta_uri(HOLDER_FILE)
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waiting.busy(_read_record(record_uri))
        previous = _read_record(record_uri)
        if previous is not None:
            waiting.on_note(_stale_note(previous))
        storage.write_text_atomic(record_uri, holder.to_json())
        try:
            yield
        finally:
            storage.delete(record_uri)
    finally:
        os.close(descriptor)


class _S3Record:
    """The holder record on S3, read and written with conditions on its existence and ETag."""

    def __init__(self, lake: Lake):
        from instacart_lake.aws_clients import boto3_client

        parsed = urlparse(lake.locations.meta_uri(HOLDER_FILE))
        self.bucket, self.key = parsed.netloc, parsed.path.lstrip("/")
        self.client = boto3_client(lake.config, "s3")

    def create(self, holder: Holder) -> str | None:
        """The new record's ETag, or None when a record exists."""
        from botocore.exceptions import ClientError

        try:
            response = self.client.put_object(Bucket=self.bucket, Key=self.key, Body=holder.to_json().encode(),
                                              IfNoneMatch="*")
        except ClientError as error:
            if error.response["Error"]["Code"] in PRECONDITION_FAILED:
                return None
            raise
        return response["ETag"]

    def read(self) -> tuple[Holder | None, str | None]:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None, None
            raise
        return Holder.from_json(response["Body"].read().decode("utf-8")), response["ETag"]

    def delete(self, etag: str) -> None:
        """Delete the record if it is still the one with `etag`."""
        from botocore.exceptions import ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=etag)
        except ClientError as error:
            if error.response["Error"]["Code"] not in PRECONDITION_FAILED | {"NoSuchKey", "404"}:
                raise


@contextmanager
def _s3_lock(lake: Lake, holder: Holder, waiting: _Waiting) -> Iterator[None]:
    record = _S3Record(lake)
    while (etag := record.create(holder)) is None:
        current, current_etag = record.read()
        if current_etag is None:
            continue
        if current is not None and not current.is_alive():
            record.delete(current_etag)
            waiting.on_note(_stale_note(current))
            continue
        waiting.busy(current)
    try:
        yield
    finally:
        record.delete(etag)

