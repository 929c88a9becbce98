"""How a table URI is spelled for each library, and what a data file's path says.

- delta-rs takes a local path (or the s3:// URI as it is);
- Spark (Hadoop) takes `file://` + the plain local path: Hadoop paths are not percent-decoded;
- file paths in the Delta log are relative to the table root; delta-rs hands them out decoded.

Data files sit under Hive-style `column=value/` folders, with Spark's escaping of the value
(`%XX`) and `__HIVE_DEFAULT_PARTITION__` for null.
"""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from instacart_lake.errors import LakeError
from instacart_lake.locations import is_local, uri_to_path

HIVE_NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def deltars_location(table_uri: str) -> str:
    return uri_to_path(table_uri) if is_local(table_uri) else table_uri


def hadoop_location(table_uri: str) -> str:
    return f"file://{uri_to_path(table_uri)}" if is_local(table_uri) else table_uri.rstrip("/")


def hadoop_file(table_uri: str, relative_path: str) -> str:
    return f"{hadoop_location(table_uri)}/{relative_path}"


def relative_path_of(spark_file: str, table_uri: str) -> str:
    """The table-relative path of a file as Spark's input_file_name() reports it (percent-encoded)."""
    root = urlparse(hadoop_location(table_uri)).path.rstrip("/")
    path = unquote(urlparse(spark_file).path)
    if not path.startswith(root + "/"):
        raise ValueError(f"{spark_file} is not under {table_uri}")
    return path[len(root) + 1:]


def partition_values_from_path(relative_path: str, partition_by: list[str]) -> dict[str, str | None]:
    """The partition values a file's `column=value/` folders state, checked against `partition_by`."""
    folders = relative_path.split("/")[:-1]
    named = folders[len(folders) - len(partition_by):] if partition_by else []
    values: dict[str, str | None] = {}
    for folder in named:
        name, separator, value = folder.partition("=")
        if separator:
            values[unquote(name)] = None if value == HIVE_NULL_PARTITION else unquote(value)
    if list(values) != partition_by:
        raise LakeError(
            f"{relative_path}: the file is not under Hive-style folders for the partition "
            f"columns {partition_by}"
        )
    return values
