"""The catalog entries a Glue crawler writes for CSV data (pure: values in, Glue dicts out).

Shapes as Glue crawlers leave them (visible in SHOW CREATE TABLE of crawled CSV tables):
TextInputFormat / HiveIgnoreKeyTextOutputFormat; LazySimpleSerDe with `field.delim`, or
OpenCSVSerde with `separatorChar` and `quoteChar` when fields are quoted
(`areColumnsQuoted=true`); and the crawler's parameters on the table, its storage
descriptor and each partition: classification, delimiter, skip.header.line.count,
columnsOrdered, compressionType, typeOfData, recordCount, averageRecordSize, sizeKey,
objectCount, UPDATED_BY_CRAWLER and the crawler schema (de)serializer versions.
"""

from __future__ import annotations

from dataclasses import dataclass

from instacart_lake.crawler.layout import PARTITION_KEY

LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
TEXT_INPUT_FORMAT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


@dataclass(frozen=True)
class CsvFormat:
    delimiter: str
    has_header: bool
    quoted: bool


@dataclass(frozen=True)
class DataStats:
    """Counts of the files under a location; record counts are estimates from the samples."""

    object_count: int
    size_bytes: int
    record_count: int
    average_record_size: int

    def __add__(self, other: "DataStats") -> "DataStats":
        records = self.record_count + other.record_count
        sized = self.average_record_size * self.record_count + other.average_record_size * other.record_count
        return DataStats(self.object_count + other.object_count, self.size_bytes + other.size_bytes,
                         records, round(sized / records) if records else 0)


NO_DATA = DataStats(0, 0, 0, 0)
Columns = list[tuple[str, str]]


def crawler_parameters(csv_format: CsvFormat, stats: DataStats, crawler_name: str) -> dict[str, str]:
    parameters = {
        "CrawlerSchemaDeserializerVersion": "1.0",
        "CrawlerSchemaSerializerVersion": "1.0",
        "UPDATED_BY_CRAWLER": crawler_name,
        "areColumnsQuoted": str(csv_format.quoted).lower(),
        "averageRecordSize": str(stats.average_record_size),
        "classification": "csv",
        "columnsOrdered": "true",
        "compressionType": "none",
        "delimiter": csv_format.delimiter,
        "objectCount": str(stats.object_count),
        "recordCount": str(stats.record_count),
        "sizeKey": str(stats.size_bytes),
        "typeOfData": "file",
    }
    if csv_format.has_header:
        parameters["skip.header.line.count"] = "1"
    return parameters


def serde_info(csv_format: CsvFormat) -> dict:
    if csv_format.quoted:
        return {"SerializationLibrary": OPEN_CSV_SERDE,
                "Parameters": {"quoteChar": '"', "separatorChar": csv_format.delimiter}}
    return {"SerializationLibrary": LAZY_SIMPLE_SERDE, "Parameters": {"field.delim": csv_format.delimiter}}


def storage_descriptor(columns: Columns, location: str, csv_format: CsvFormat, parameters: dict[str, str]) -> dict:
    return {
        "Columns": [{"Name": name, "Type": column_type} for name, column_type in columns],
        "Location": location,
        "InputFormat": TEXT_INPUT_FORMAT,
        "OutputFormat": TEXT_OUTPUT_FORMAT,
        "Compressed": False,
        "NumberOfBuckets": -1,
        "SerdeInfo": serde_info(csv_format),
        "BucketColumns": [],
        "SortColumns": [],
        "Parameters": dict(parameters),
        "StoredAsSubDirectories": False,
    }


def csv_table_input(name: str, location: str, columns: Columns, csv_format: CsvFormat,
                    stats: DataStats, crawler_name: str) -> dict:
    parameters = crawler_parameters(csv_format, stats, crawler_name)
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
        "PartitionKeys": [{"Name": PARTITION_KEY, "Type": "string"}],
        "StorageDescriptor": storage_descriptor(columns, location, csv_format, parameters),
    }


def csv_partition_input(values: tuple[str, ...], location: str, columns: Columns, csv_format: CsvFormat,
                        stats: DataStats, crawler_name: str) -> dict:
    parameters = crawler_parameters(csv_format, stats, crawler_name)
    return {
        "Values": list(values),
        "Parameters": parameters,
        "StorageDescriptor": storage_descriptor(columns, location, csv_format, parameters),
    }


# -- reading back what the catalog holds ----------------------------------------------------


def columns_of(entry: dict) -> Columns:
    return [(column["Name"], column["Type"]) for column in entry["StorageDescriptor"].get("Columns", [])]


def _parameters_of(entry: dict) -> dict:
    return entry["StorageDescriptor"].get("Parameters") or entry.get("Parameters") or {}


def stats_of(entry: dict) -> DataStats:
    parameters = _parameters_of(entry)
    return DataStats(*(int(parameters.get(key, 0)) for key in
                       ("objectCount", "sizeKey", "recordCount", "averageRecordSize")))


def format_of(entry: dict) -> CsvFormat:
    parameters = _parameters_of(entry)
    return CsvFormat(parameters.get("delimiter", ","), parameters.get("skip.header.line.count") == "1",
                     parameters.get("areColumnsQuoted") == "true")
