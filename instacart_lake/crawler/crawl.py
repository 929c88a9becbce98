"""Crawl the raw zone into the catalog, as a Glue crawler with the built-in CSV classifier does.

Each table folder becomes one table of the raw database, partitioned by `ingest_date`, each
partition with its own storage descriptor. Only partitions that are new, or whose files
changed (another file landed), are classified, so a crawl with nothing new writes nothing.
A landing whose schema differs from the table's is reported as drift; under the `update`
policy the table then gets a new version (update_table keeps the previous one), under `log`
the table is left as it is and only the drift is reported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from instacart_lake.catalog import Catalog
from instacart_lake.context import Lake
from instacart_lake.crawler.csv_inference import FileSchema, infer_file_schema
from instacart_lake.crawler.definition import load_crawler
from instacart_lake.crawler.drift import PartitionColumns, evolve_columns, find_drift, merge_columns, typed_columns
from instacart_lake.crawler.glue_shapes import (
    NO_DATA,
    Columns,
    CsvFormat,
    DataStats,
    columns_of,
    csv_partition_input,
    csv_table_input,
    format_of,
    stats_of,
)
from instacart_lake.crawler.layout import (
    PARTITION_KEY,
    CrawlProblem,
    RawFile,
    RawPartition,
    RawTable,
    read_sample,
    scan_raw_zone,
)
from instacart_lake.crawler.report import CrawlReport, PartitionChange
from instacart_lake.errors import InputError, LakeError

log = logging.getLogger(__name__)

SCHEMA_CHANGE_POLICIES = ("update", "log")
RAW_DATABASE_DESCRIPTION = "Raw zone (Bronze): the Instacart files as they landed, cataloged by the crawler"


def crawler_name(lake: Lake) -> str:
    """The raw zone crawler's name (crawlers/raw_zone.toml), which it signs its tables with
    (UPDATED_BY_CRAWLER)."""
    return load_crawler().glue_name(lake.config.database_prefix)


@dataclass(frozen=True)
class ClassifiedPartition:
    raw: RawPartition
    columns: PartitionColumns
    csv_format: CsvFormat
    stats: DataStats


def _file_stats(raw_file: RawFile, schema: FileSchema, is_whole_file: bool) -> DataStats:
    average = schema.data_bytes / schema.data_records if schema.data_records else 0.0
    if is_whole_file:
        records = schema.data_records
    else:
        records = round((raw_file.size_bytes - schema.header_bytes) / average) if average else 0
    return DataStats(1, raw_file.size_bytes, records, round(average))


def _classify_partition(raw: RawPartition) -> ClassifiedPartition | list[CrawlProblem]:
    """The schema, format and counts of one landing, or why some of its files are not CSV."""
    problems: list[CrawlProblem] = []
    schemas: list[FileSchema] = []
    stats = NO_DATA
    for raw_file in raw.files:
        sample, is_whole_file = read_sample(raw_file.uri)
        try:
            schema = infer_file_schema(sample, is_whole_file, raw_file.uri)
        except InputError as error:
            where = raw_file.uri if error.line is None else f"{raw_file.uri}:{error.line}"
            problems.append(CrawlProblem(raw_file.uri, str(error).removeprefix(f"{where}: "), error.line))
            continue
        schemas.append(schema)
        stats = stats + _file_stats(raw_file, schema, is_whole_file)
    layouts = {(schema.delimiter, schema.has_header) for schema in schemas}
    if len(layouts) > 1:
        problems.append(CrawlProblem(raw.uri, "the files of this landing disagree on the delimiter or the "
                                              "header line, so it is not cataloged"))
    if problems:
        return problems
    first = schemas[0]
    columns = merge_columns([[(column.name, column.type) for column in schema.columns] for schema in schemas])
    csv_format = CsvFormat(first.delimiter, first.has_header, any(schema.quoted for schema in schemas))
    return ClassifiedPartition(raw, columns, csv_format, stats)


def _is_current(raw: RawPartition, cataloged: dict | None) -> bool:
    """Whether the catalog's partition describes these files (same file count and bytes)."""
    if cataloged is None:
        return False
    stats = stats_of(cataloged)
    return (stats.object_count, stats.size_bytes) == (len(raw.files), raw.size_bytes)


def _is_same_table(table_input: dict, table: dict) -> bool:
    return all(table.get(key) == value for key, value in table_input.items())


class _TableCrawl:
    """The crawl of one table folder."""

    def __init__(self, catalog: Catalog, database: str, raw: RawTable, policy: str, crawler: str,
                 report: CrawlReport):
        self.catalog, self.database, self.raw, self.policy = catalog, database, raw, policy
        self.crawler, self.report = crawler, report
        self.name = raw.name.lower()

    def run(self) -> None:
        table = self.catalog.get_table(self.database, self.name)
        cataloged = ({tuple(p["Values"]): p for p in self.catalog.get_partitions(self.database, self.name)}
                     if table else {})
        pending = [raw for values, raw in sorted(self.raw.partitions.items())
                   if not _is_current(raw, cataloged.get(values))]
        classified = []
        for raw in pending:
            outcome = _classify_partition(raw)
            if isinstance(outcome, list):
                self.report.problems.extend(outcome)
            else:
                classified.append(outcome)
        if not classified:
            if table:
                self.report.tables_unchanged.append(self.name)
            return
        columns = columns_of(table) if table else None
        partition_inputs = []
        for partition in classified:
            if columns is None:
                columns = typed_columns(partition.columns, [])
            else:
                self.report.drift.extend(find_drift(self.name, partition.raw.name, columns, partition.columns))
                if self.policy == "update":
                    columns = evolve_columns(columns, partition.columns)
            partition_inputs.append(csv_partition_input(
                partition.raw.values, partition.raw.uri, typed_columns(partition.columns, columns),
                partition.csv_format, partition.stats, self.crawler))
        self._write_table(table, columns, classified, cataloged)
        self._write_partitions(partition_inputs, cataloged)

    def _write_table(self, table: dict | None, columns: Columns, classified: list[ClassifiedPartition],
                     cataloged: dict[tuple[str, ...], dict]) -> None:
        if table is not None and self.policy == "log":
            self.report.tables_unchanged.append(self.name)
            return
        landed = {partition.raw.values: (partition.csv_format, partition.stats) for partition in classified}
        for values, partition in cataloged.items():
            landed.setdefault(values, (format_of(partition), stats_of(partition)))
        stats = NO_DATA
        for _, partition_stats in landed.values():
            stats = stats + partition_stats
        latest = landed[max(landed)][0]
        csv_format = CsvFormat(latest.delimiter, latest.has_header,
                               any(landed_format.quoted for landed_format, _ in landed.values()))
        table_input = csv_table_input(self.name, self.raw.uri, columns, csv_format, stats, self.crawler)
        if table is None:
            self.catalog.create_table(self.database, table_input)
            self.report.tables_created.append(self.name)
        elif _is_same_table(table_input, table):
            self.report.tables_unchanged.append(self.name)
        else:
            self.catalog.update_table(self.database, table_input)
            self.report.tables_updated.append(self.name)

    def _write_partitions(self, partition_inputs: list[dict], cataloged: dict[tuple[str, ...], dict]) -> None:
        new = [p for p in partition_inputs if tuple(p["Values"]) not in cataloged]
        errors = self.catalog.batch_create_partition(self.database, self.name, new) if new else []
        if errors:
            raise LakeError(f"the catalog refused partitions of {self.database}.{self.name}: "
                            + "; ".join(f"{e['PartitionValues']}: {e['ErrorDetail']['ErrorMessage']}" for e in errors))
        for partition_input in new:
            self.report.partitions_added.append(self._change(partition_input))
        for partition_input in partition_inputs:
            if tuple(partition_input["Values"]) in cataloged:
                self.catalog.update_partition(self.database, self.name, partition_input["Values"], partition_input)
                self.report.partitions_updated.append(self._change(partition_input))

    def _change(self, partition_input: dict) -> PartitionChange:
        [value] = partition_input["Values"]
        return PartitionChange(self.name, f"{PARTITION_KEY}={value}", partition_input["StorageDescriptor"]["Location"])


def crawl_raw_zone(lake: Lake, schema_change_policy: str | None = None) -> CrawlReport:
    """Catalog the raw zone's tables and landings; see the module docstring. The policy is the
    crawler definition's unless given."""
    schema_change_policy = schema_change_policy or load_crawler().local_policy
    if schema_change_policy not in SCHEMA_CHANGE_POLICIES:
        raise LakeError(f"unknown schema change policy {schema_change_policy!r} "
                        f"(use {' or '.join(SCHEMA_CHANGE_POLICIES)})")
    raw_uri = lake.locations.zone_uri("raw")
    database = lake.locations.database("raw")
    lake.catalog.ensure_database(database, RAW_DATABASE_DESCRIPTION, f"{raw_uri}/")
    tables, problems = scan_raw_zone(raw_uri)
    report = CrawlReport(schema_change_policy, database, problems=problems)
    for raw_table in tables:
        _TableCrawl(lake.catalog, database, raw_table, schema_change_policy, crawler_name(lake), report).run()
    for drift in report.drift:
        log.info("schema drift in %s.%s %s: column %s %s (%s -> %s)", database, drift.table, drift.partition,
                    drift.column, drift.kind, drift.old_type, drift.new_type)
    for problem in report.problems:
        log.info("not cataloged: %s%s: %s", problem.path,
                    "" if problem.line is None else f":{problem.line}", problem.message)
    log.info("crawl of %s: %d tables created, %d updated, %d unchanged, %d partitions added, %d updated",
             database, len(report.tables_created), len(report.tables_updated), len(report.tables_unchanged),
             len(report.partitions_added), len(report.partitions_updated))
    return report
