"""How a table URI is spelled for Spark (Hadoop): `file://` + the plain local path (Hadoop paths
are not percent-decoded), or the s3:// URI without a trailing slash."""

from __future__ import annotations

from instacart_lake.locations import is_local, uri_to_path


def hadoop_location(table_uri: str) -> str:
    return f"file://{uri_to_path(table_uri)}" if is_local(table_uri) else table_uri.rstrip("/")
