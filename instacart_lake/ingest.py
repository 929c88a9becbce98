"""Batch ingestion: land Instacart CSV files in the raw zone, atomically and idempotently.

A file lands at `<raw>/<table>/ingest_date=YYYY-MM-DD/<name>.csv`. The copy goes to the raw
zone's staging folder first and is renamed into place only when complete, so no reader sees
half a file. Every landing is recorded in the ingest manifest (source name, size, SHA-256,
row count, time). A byte-identical file that already landed is skipped; a changed file with
the same name lands as a new version (`orders.v2.csv` when the same day already has one).
Every source is checked before anything is written: one bad file lands nothing. An ingest
that lands files ends with its batch marker (Locations.raw_batch_uri), a JSON list of them:
the one object whose S3 event starts the chain, however many files landed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from instacart_lake import storage
from instacart_lake.context import Lake
from instacart_lake.errors import InputError, LakeError
from instacart_lake.orchestration.definition import batch_marker
from instacart_lake.schemas import SourceTable, source_table_for_file

CHUNK_BYTES = 8 << 20
GENERATOR_SIDECARS = frozenset({"ground_truth.csv", "defects.csv"})
"""Files the generator writes beside the six sources; a folder ingest passes over them."""

ProgressCallback = Callable[[str, int], None]


@dataclass(frozen=True)
class Landing:
    """One manifest record: a source file and where it landed."""

    source_name: str
    table: str
    version: int
    uri: str
    size_bytes: int
    sha256: str
    row_count: int
    ingest_date: str
    landed_at: str
    run_id: str


@dataclass
class IngestReport:
    landed: list[Landing] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    batch_uri: str | None = None

    def to_dict(self) -> dict:
        return {
            "landed": [asdict(landing) for landing in self.landed],
            "unchanged": self.unchanged,
            "ignored": self.ignored,
            "batch_uri": self.batch_uri,
        }


@dataclass(frozen=True)
class _Source:
    path: Path
    table: SourceTable


def collect_sources(arguments: Iterable[str]) -> tuple[list[_Source], list[str]]:
    """The source files named by folders and files, checked; and the folder files passed over.

    Raises InputError for a missing path, an unknown file named explicitly, an empty file, a
    file that is not CSV text or whose header is not the table's, and a folder without sources.
    """
    sources: list[_Source] = []
    ignored: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if not path.exists():
            raise InputError("no such file or folder", str(path))
        if path.is_dir():
            found = []
            for candidate in sorted(path.iterdir()):
                table = source_table_for_file(candidate.name) if candidate.is_file() else None
                if table is None:
                    if candidate.name not in GENERATOR_SIDECARS:
                        ignored.append(str(candidate))
                    continue
                found.append(_Source(candidate, table))
            if not found:
                raise InputError("folder holds none of the six Instacart files "
                                 "(aisles.csv, departments.csv, products.csv, orders.csv, "
                                 "order_products__prior.csv, order_products__train.csv)", str(path))
            sources.extend(found)
        else:
            table = source_table_for_file(path.name)
            if table is None:
                raise InputError(f"unknown file {path.name!r}: not one of the six Instacart "
                                 "files, so it is refused", str(path))
            sources.append(_Source(path, table))
    names = [source.path.name for source in sources]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InputError(f"the same file name is given twice: {', '.join(duplicates)}")
    for source in sources:
        _check_source(source)
    return sources, ignored


def _check_source(source: _Source) -> None:
    """Cheap checks on the head of a file: not empty, text, and the table's header."""
    path = str(source.path)
    with source.path.open("rb") as handle:
        head = handle.read(64 << 10)
    if not head:
        raise InputError("file is empty", path, 1)
    if b"\x00" in head:
        raise InputError("not a CSV text file (binary content)", path)
    first_line = head.split(b"\n", 1)[0].rstrip(b"\r").removeprefix(b"\xef\xbb\xbf")
    try:
        header = [name.strip().strip('"') for name in first_line.decode("utf-8").split(",")]
    except UnicodeDecodeError:
        raise InputError("header is not UTF-8 text", path, 1) from None
    if tuple(header) != source.table.column_names:
        raise InputError(
            f"header does not match {source.table.file_name}: expected "
            f"{','.join(source.table.column_names)}, found {','.join(header)}", path, 1)


def ingest(
    lake: Lake,
    arguments: Iterable[str],
    run_id: str,
    ingest_date: dt.date | None = None,
    on_progress: ProgressCallback | None = None,
) -> IngestReport:
    """Land the files named by `arguments` (folders or files) in the raw zone."""
    sources, ignored = collect_sources(arguments)
    ingest_date = ingest_date or dt.datetime.now(dt.timezone.utc).date()
    locations = lake.locations
    _ensure_writable(locations.raw_staging_uri())
    manifest = _reconciled_manifest(lake, run_id)
    report = IngestReport(ignored=ignored)
    for source in sources:
        staged_uri = f"{locations.raw_staging_uri()}/{uuid.uuid4().hex}.csv"
        try:
            size, sha256, row_count = _copy_to_staging(source.path, staged_uri, on_progress)
            previous = [m for m in manifest if m.source_name == source.path.name]
            if any(m.sha256 == sha256 for m in previous):
                report.unchanged.append(str(source.path))
                continue
            version = 1 + max((m.version for m in previous), default=0)
            partition_uri = locations.raw_landing_uri(source.table.name, ingest_date)
            final_uri = f"{partition_uri}/{_versioned_name(source.path.name, version, partition_uri)}"
            storage.move(staged_uri, final_uri)
        finally:
            storage.delete(staged_uri)
        landing = Landing(
            source_name=source.path.name, table=source.table.name, version=version,
            uri=final_uri, size_bytes=size, sha256=sha256, row_count=row_count,
            ingest_date=ingest_date.isoformat(),
            landed_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            run_id=run_id,
        )
        manifest.append(landing)
        _write_manifest(lake, manifest)
        report.landed.append(landing)
    if report.landed:
        report.batch_uri = locations.raw_batch_uri(run_id)
        storage.write_text_atomic(report.batch_uri, batch_marker(run_id, [landing.uri for landing in report.landed]))
    return report


def read_manifest(lake: Lake) -> list[Landing]:
    uri = lake.locations.ingest_manifest_uri
    if not storage.exists(uri):
        return []
    return [Landing(**json.loads(line)) for line in storage.read_text(uri).splitlines() if line]


def _write_manifest(lake: Lake, manifest: list[Landing]) -> None:
    text = "".join(json.dumps(asdict(landing), sort_keys=True) + "\n" for landing in manifest)
    storage.write_text_atomic(lake.locations.ingest_manifest_uri, text)


def _reconciled_manifest(lake: Lake, run_id: str) -> list[Landing]:
    """The manifest, plus a record for any landed file it misses (a run that died between the
    rename and the manifest write), so that a byte-identical re-ingest stays a no-op."""
    manifest = read_manifest(lake)
    recorded = {landing.uri for landing in manifest}
    raw_uri = lake.locations.zone_uri("raw")
    staging_uri = lake.locations.raw_staging_uri()
    missing = [uri for uri in storage.list_files(raw_uri)
               if uri.endswith(".csv") and not uri.startswith(staging_uri) and uri not in recorded]
    for uri in missing:
        size, sha256, row_count = _measure(uri)
        table_name = uri[len(raw_uri) + 1:].split("/", 1)[0]
        partition = uri.rsplit("/", 2)[-2]
        file_name = uri.rsplit("/", 1)[-1]
        source_name = f"{file_name.split('.')[0]}.csv"
        version = 1 + max((m.version for m in manifest if m.source_name == source_name), default=0)
        manifest.append(Landing(
            source_name=source_name, table=table_name, version=version, uri=uri,
            size_bytes=size, sha256=sha256, row_count=row_count,
            ingest_date=partition.removeprefix("ingest_date="),
            landed_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            run_id=run_id,
        ))
    if missing:
        _write_manifest(lake, manifest)
    return manifest


def _versioned_name(file_name: str, version: int, partition_uri: str) -> str:
    """`orders.csv` for the first landing in a partition, `orders.vN.csv` after that."""
    stem = file_name[: -len(".csv")]
    if not storage.exists(f"{partition_uri}/{file_name}"):
        return file_name
    return f"{stem}.v{version}.csv"


def _copy_to_staging(path: Path, staged_uri: str, on_progress: ProgressCallback | None):
    """Copy a file to staging, hashing it and counting its data rows on the way."""
    digest = hashlib.sha256()
    size = newlines = 0
    last_byte = b""
    location = storage.resolve(staged_uri)
    location.filesystem.create_dir(location.path.rsplit("/", 1)[0], recursive=True)
    with path.open("rb") as source, location.filesystem.open_output_stream(location.path) as target:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
            target.write(chunk)
            size += len(chunk)
            newlines += chunk.count(b"\n")
            last_byte = chunk[-1:]
            if on_progress is not None:
                on_progress(path.name, len(chunk))
    return size, digest.hexdigest(), _data_rows(newlines, last_byte)


def _measure(uri: str) -> tuple[int, str, int]:
    data = storage.read_bytes(uri)
    return len(data), hashlib.sha256(data).hexdigest(), _data_rows(data.count(b"\n"), data[-1:])


def _data_rows(newlines: int, last_byte: bytes) -> int:
    """Lines after the header: a last line without a line end counts too."""
    lines = newlines + (1 if last_byte not in (b"", b"\n") else 0)
    return max(lines - 1, 0)


def _ensure_writable(uri: str) -> None:
    try:
        location = storage.resolve(uri)
        location.filesystem.create_dir(location.path, recursive=True)
        probe = f"{uri}/.write-probe-{uuid.uuid4().hex}"
        storage.write_bytes_atomic(probe, b"")
        storage.delete(probe)
    except (PermissionError, OSError) as error:
        raise LakeError(f"cannot write to the lake at {uri}: {error.strerror or error}") from None
