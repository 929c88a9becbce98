"""What lies in the raw zone: `<raw>/<table>/ingest_date=YYYY-MM-DD/<file>`.

Names starting with `_` or `.` are hidden, as for Hadoop, Spark and Athena: the `_staging`
folder and temporary files are never crawled. Files anywhere else are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from instacart_lake import storage

PARTITION_KEY = "ingest_date"
SAMPLE_BYTES = 1 << 20
"""Like a Glue crawler, the classifier reads the first megabyte of each file."""


@dataclass(frozen=True)
class CrawlProblem:
    """A file the crawler could not catalog, and why (with the line, where one is to blame)."""

    path: str
    message: str
    line: int | None = None


@dataclass(frozen=True)
class RawFile:
    uri: str
    size_bytes: int


@dataclass
class RawPartition:
    values: tuple[str, ...]
    uri: str
    files: list[RawFile] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{PARTITION_KEY}={self.values[0]}"

    @property
    def size_bytes(self) -> int:
        return sum(raw_file.size_bytes for raw_file in self.files)


@dataclass
class RawTable:
    name: str
    uri: str
    partitions: dict[tuple[str, ...], RawPartition] = field(default_factory=dict)


def _is_hidden(name: str) -> bool:
    return name.startswith(("_", "."))


def scan_raw_zone(raw_uri: str) -> tuple[list[RawTable], list[CrawlProblem]]:
    """The tables and partitions of the raw zone (sorted), and the files out of place."""
    from pyarrow import fs as pafs  # here, not with the module: the Lambda handlers import the crawler package

    location = storage.resolve(raw_uri)
    selector = pafs.FileSelector(location.path, recursive=True, allow_not_found=True)
    base = location.path.rstrip("/")
    tables: dict[str, RawTable] = {}
    problems: list[CrawlProblem] = []
    for info in sorted(location.filesystem.get_file_info(selector), key=lambda info: info.path):
        if info.type != pafs.FileType.File:
            continue
        parts = info.path[len(base) + 1:].split("/")
        if any(_is_hidden(part) for part in parts):
            continue
        uri = f"{raw_uri.rstrip('/')}/{'/'.join(parts)}"
        key, separator, value = parts[1].partition("=") if len(parts) == 3 else ("", "", "")
        if key != PARTITION_KEY or not separator or not value:
            problems.append(CrawlProblem(uri, f"not in a <table>/{PARTITION_KEY}=<date>/ folder of the raw "
                                              "zone, so it is not cataloged"))
            continue
        table_name = parts[0]
        table = tables.setdefault(table_name, RawTable(table_name, f"{raw_uri.rstrip('/')}/{table_name}/"))
        partition = table.partitions.setdefault(
            (value,), RawPartition((value,), f"{table.uri}{parts[1]}/"))
        partition.files.append(RawFile(uri, info.size))
    return [tables[name] for name in sorted(tables)], problems


def read_sample(uri: str) -> tuple[bytes, bool]:
    """The first SAMPLE_BYTES of a file, cut at its last line break when the file is longer;
    and whether the sample is the whole file."""
    location = storage.resolve(uri)
    with location.filesystem.open_input_stream(location.path) as stream:
        sample = stream.read(SAMPLE_BYTES + 1)
    if len(sample) <= SAMPLE_BYTES:
        return sample, True
    cut = sample.rfind(b"\n", 0, SAMPLE_BYTES)
    return sample[:cut + 1] if cut >= 0 else sample[:SAMPLE_BYTES], False
