"""Batch ingestion: land Instacart CSV files in the raw zone, atomically and idempotently.

A file lands at `<raw>/<table>/ingest_date=YYYY-MM-DD/<name>.csv`. The copy goes to the raw
zone's staging folder first and is renamed into place only when complete, so no reader sees
half a file. Every landing is recorded in the ingest manifest (source name, size, SHA-256,
row count, time). A byte-identical file that already landed is skipped; a changed file with
the same name lands as a new version (`orders.v2.csv` when the same day already has one).
Every source is checked before anything is written: one bad file lands nothing. An ingest
that lands files ends with its batch marker (Locations.raw_batch_uri), a JSON list of them:
the one object whose S3 event starts the chain, however many files landed.

Sources are named exactly as the data contract publishes them (`orders.csv`, case-sensitive);
a near miss (`Orders.csv`, `orders.CSV`, a folder named `orders.csv`) is refused, any other
entry of a source folder is reported as not ingested. The names ingest lands are the only
files job 1 reads (`landed_files`). Versions are numbered from the manifest, so the commands
that ingest hold the lake lock (instacart_lake.lake_lock): two ingests at once would pick the
same version. The manifest stores each file's URI relative to the raw zone (see
instacart_lake.ledger), so a lake root that moves keeps its landings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from instacart_lake import failpoints, storage
from instacart_lake.context import Lake
from instacart_lake.csv_records import RecordCounter
from instacart_lake.errors import InputError, LakeError
from instacart_lake.ledger import zone_absolute, zone_relative
from instacart_lake.leftovers import remove_staged_files
from instacart_lake.orchestration.definition import batch_marker
from instacart_lake.schemas import SOURCE_TABLES, SourceTable, source_table_for_file

CHUNK_BYTES = 8 << 20
SOURCE_FILE_NAMES = tuple(table.file_name for table in SOURCE_TABLES.values())

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
    """The source files named by folders and files, checked; and the folder entries passed over.

    Names are matched exactly as the data contract publishes them. Raises InputError for a
    missing path, a file named explicitly that is not one of the six, a folder entry that
    nearly is (the same name but for case, or a folder named like a source file), a file that
    fails the head checks, and a folder without sources. Any other folder entry (a README, the
    generator's ground_truth.csv and defects.csv) is passed over and returned by name.
    """
    sources: list[_Source] = []
    ignored: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if not path.exists():
            raise InputError("no such file or folder", str(path))
        if path.is_dir() and _source_named_like(path.name) is None:
            found = []
            for candidate in sorted(path.iterdir()):
                table = _named_source(candidate)
                if table is None:
                    ignored.append(str(candidate))
                else:
                    found.append(_Source(candidate, table))
            if not found:
                raise InputError(f"folder holds none of the six Instacart files ({', '.join(SOURCE_FILE_NAMES)})",
                                 str(path))
            sources.extend(found)
        else:
            table = _named_source(path)
            if table is None:
                raise InputError(f"unknown file {path.name!r}: not one of the six Instacart files, so it is refused",
                                 str(path))
            sources.append(_Source(path, table))
    names = [source.path.name for source in sources]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InputError(f"the same file name is given twice: {', '.join(duplicates)}")
    for source in sources:
        _check_source(source)
    return sources, ignored


def _named_source(path: Path) -> SourceTable | None:
    """The table of a source file; None for a path named like none; InputError for a near miss."""
    table = source_table_for_file(path.name) if path.is_file() else None
    if table is not None:
        return table
    near = _source_named_like(path.name)
    if near is None:
        return None
    if path.is_dir():
        raise InputError(f"a folder, not the file {near.file_name} (a source is one CSV file, not a folder "
                         "of parts): give the file itself", str(path))
    raise InputError(f"not one of the six Instacart file names, which are case-sensitive: did you mean "
                     f"{near.file_name}?", str(path))


def _source_named_like(name: str) -> SourceTable | None:
    """The table whose file name is `name` but for case (`Orders.csv`, `orders.CSV` -> orders)."""
    return next((table for table in SOURCE_TABLES.values() if table.file_name.lower() == name.lower()), None)


def not_ingested_note(path: str) -> str:
    """The line `lake ingest` and `lake run` print for a folder entry passed over."""
    return f"not ingested: {path} (not one of the six Instacart files)"


def _check_source(source: _Source) -> None:
    """Checks before anything lands: not empty, the table's header in UTF-8, and no NUL byte
    anywhere (instacart_lake.csv_records). The scan for NUL reads the whole file at memory
    speed; the copy then reads it again, mostly from the page cache."""
    path = str(source.path)
    with source.path.open("rb") as handle:
        head = handle.read(64 << 10)
        if not head:
            raise InputError("file is empty", path, 1)
        _refuse_nul(source.path, 0, head)
        first_line = head.split(b"\n", 1)[0].rstrip(b"\r").removeprefix(b"\xef\xbb\xbf")
        try:
            header = [name.strip().strip('"') for name in first_line.decode("utf-8").split(",")]
        except UnicodeDecodeError:
            raise InputError("header is not UTF-8 text", path, 1) from None
        if tuple(header) != source.table.column_names:
            line_ends = " (its lines end in a lone carriage return: LF or CRLF expected)" if b"\r" in first_line else ""
            raise InputError(
                f"header does not match {source.table.file_name}: expected "
                f"{','.join(source.table.column_names)}, found {_one_line(','.join(header))}{line_ends}", path, 1)
        offset = len(head)
        while chunk := handle.read(CHUNK_BYTES):
            _refuse_nul(source.path, offset, chunk)
            offset += len(chunk)


def _one_line(text: str, limit: int = 120) -> str:
    """Text as one printable line for a message: control characters escaped, cut at `limit`."""
    shown = "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
    return shown if len(shown) <= limit else shown[:limit] + "…"


def _refuse_nul(path: Path, offset: int, chunk: bytes) -> None:
    """Raise InputError naming the line of the first NUL byte in `chunk` (which starts at
    byte `offset` of the file)."""
    position = chunk.find(b"\x00")
    if position != -1:
        raise InputError("not a CSV text file (NUL byte)", str(path), _line_at(path, offset + position))


def _line_at(path: Path, offset: int) -> int:
    """The line that holds byte `offset` of a file (counted only once a NUL is found: counting
    line ends costs as much as hashing)."""
    newlines = 0
    with path.open("rb") as handle:
        while offset > 0 and (chunk := handle.read(min(CHUNK_BYTES, offset))):
            newlines += chunk.count(b"\n")
            offset -= len(chunk)
    return newlines + 1


def ingest(
    lake: Lake,
    arguments: Iterable[str],
    run_id: str,
    ingest_date: dt.date | None = None,
    on_progress: ProgressCallback | None = None,
) -> IngestReport:
    """Land the files named by `arguments` (folders or files) in the raw zone. The caller holds
    the lake lock."""
    sources, ignored = collect_sources(arguments)
    ingest_date = ingest_date or dt.datetime.now(dt.timezone.utc).date()
    locations = lake.locations
    _ensure_writable(locations.raw_staging_uri())
    remove_staged_files(locations.raw_staging_uri(), dt.datetime.now(dt.timezone.utc))
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
            failpoints.reach("ingest.after_rename")
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
    """The manifest's records, with the URIs of the files where the lake is now."""
    uri = lake.locations.ingest_manifest_uri
    if not storage.exists(uri):
        return []
    raw_uri = lake.locations.zone_uri("raw")
    records = [json.loads(line) for line in storage.read_text(uri).splitlines() if line]
    return [Landing(**{**record, "uri": zone_absolute(record["uri"], raw_uri)}) for record in records]


def _write_manifest(lake: Lake, manifest: list[Landing]) -> None:
    """Replace the manifest in one atomic write, each file by its URI relative to the raw zone."""
    raw_uri = lake.locations.zone_uri("raw")
    text = "".join(json.dumps({**asdict(landing), "uri": zone_relative(landing.uri, raw_uri)}, sort_keys=True) + "\n"
                   for landing in manifest)
    storage.write_text_atomic(lake.locations.ingest_manifest_uri, text)


def landed_files(lake: Lake, table: SourceTable) -> list[str]:
    """The files ingest landed for `table` in the raw zone: the files job 1 reads.

    Raises LakeError for any other file in the table's raw folder: a file that ingest did not
    land is neither read nor passed over in silence.
    """
    files = storage.list_files(lake.locations.table_uri("raw", table.name))
    strays = [uri for uri in files if _landing_version(table, _table_relative(lake, table, uri)) is None]
    if strays:
        raise LakeError(f"{strays[0]}: not a file that lake ingest lands ({table.name}/ingest_date=YYYY-MM-DD/"
                        f"{table.name}.csv or {table.name}.vN.csv), so job 1 does not read it: land the file "
                        "with `lake ingest`, or move it out of the raw zone")
    return files


def _landing_version(table: SourceTable, path: str) -> int | None:
    """For a path under a table's raw folder named as ingest lands files, the version in its
    name (1 when it has none); None for any other path."""
    match = re.fullmatch(rf"ingest_date=\d{{4}}-\d{{2}}-\d{{2}}/{re.escape(table.name)}(?:\.v([1-9]\d*))?\.csv", path)
    if match is None:
        return None
    return int(match.group(1) or 1)


def _reconciled_manifest(lake: Lake, run_id: str) -> list[Landing]:
    """The manifest, plus a record for any landed file it misses (a run that died between the
    rename and the manifest write), so that a byte-identical re-ingest stays a no-op."""
    manifest = read_manifest(lake)
    recorded = {landing.uri for landing in manifest}
    missing = [(table, uri) for table in SOURCE_TABLES.values()
               for uri in storage.list_files(lake.locations.table_uri("raw", table.name))
               if uri not in recorded and _landing_version(table, _table_relative(lake, table, uri)) is not None]
    for table, uri in missing:
        size, sha256, row_count = _measure(uri)
        partition = uri.rsplit("/", 2)[-2]
        version = 1 + max((m.version for m in manifest if m.source_name == table.file_name), default=0)
        manifest.append(Landing(
            source_name=table.file_name, table=table.name, version=version, uri=uri,
            size_bytes=size, sha256=sha256, row_count=row_count,
            ingest_date=partition.removeprefix("ingest_date="),
            landed_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            run_id=run_id,
        ))
    if missing:
        _write_manifest(lake, manifest)
    return manifest


def _table_relative(lake: Lake, table: SourceTable, uri: str) -> str:
    return uri[len(lake.locations.table_uri("raw", table.name)) + 1:]


def _versioned_name(file_name: str, version: int, partition_uri: str) -> str:
    """`orders.csv` for the first landing in a partition, `orders.vN.csv` after that."""
    stem = file_name[: -len(".csv")]
    if not storage.exists(f"{partition_uri}/{file_name}"):
        return file_name
    return f"{stem}.v{version}.csv"


def _copy_to_staging(path: Path, staged_uri: str, on_progress: ProgressCallback | None):
    """Copy a file to staging, hashing it and counting its data records on the way."""
    digest = hashlib.sha256()
    size = 0
    records = RecordCounter()
    location = storage.resolve(staged_uri)
    location.filesystem.create_dir(location.path.rsplit("/", 1)[0], recursive=True)
    with path.open("rb") as source, location.filesystem.open_output_stream(location.path) as target:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
            target.write(chunk)
            size += len(chunk)
            records.feed(chunk)
            if on_progress is not None:
                on_progress(path.name, len(chunk))
    return size, digest.hexdigest(), records.finish()


def _measure(uri: str) -> tuple[int, str, int]:
    data = storage.read_bytes(uri)
    records = RecordCounter()
    records.feed(data)
    return len(data), hashlib.sha256(data).hexdigest(), records.finish()


def _ensure_writable(uri: str) -> None:
    try:
        location = storage.resolve(uri)
        location.filesystem.create_dir(location.path, recursive=True)
        probe = f"{uri}/.write-probe-{uuid.uuid4().hex}"
        storage.write_bytes_atomic(probe, b"")
        storage.delete(probe)
    except (PermissionError, OSError) as error:
        raise LakeError(f"cannot write to the lake at {uri}: {error.strerror or error}") from None
