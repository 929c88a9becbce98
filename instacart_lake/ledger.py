"""The ledger of processed raw files: job 1's incremental reads.

A file is recorded only after everything made from it is committed, so a run that dies
leaves its files pending and the next run takes them again (its writes merge by key, so
taking a file twice changes nothing). On Glue the same ledger lives in the meta location on
S3: Glue job bookmarks follow DynamicFrame reads only, and job 1 reads raw lines with their
file and line numbers through Spark's text source.

The ledger, like the ingest manifest, stores a file by its URI relative to the raw zone
(`orders/ingest_date=2026-12-01/orders.csv`), so a lake root that moves keeps what it
processed; callers see absolute URIs. Records of older lakes hold absolute URIs: those under
the raw zone read as the same files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from instacart_lake import storage
from instacart_lake.runs import utc_now


def zone_relative(uri: str, zone_uri: str) -> str:
    """A file's URI as stored: relative to the zone when under it (else as it is)."""
    prefix = zone_uri.rstrip("/") + "/"
    return uri[len(prefix):] if uri.startswith(prefix) else uri


def zone_absolute(stored: str, zone_uri: str) -> str:
    """A stored URI as a file's URI in the zone: an absolute one stays as it is."""
    return stored if "://" in stored else f"{zone_uri.rstrip('/')}/{stored}"


@dataclass(frozen=True)
class Ledger:
    uri: str
    zone_uri: str
    """The raw zone, which the stored URIs are relative to."""

    def processed(self) -> dict[str, dict]:
        """File URI -> {table, run_id, processed_at} for every processed file."""
        if not storage.exists(self.uri):
            return {}
        stored = json.loads(storage.read_text(self.uri))["processed"]
        return {zone_absolute(uri, self.zone_uri): entry for uri, entry in stored.items()}

    def pending(self, file_uris: list[str]) -> list[str]:
        done = self.processed()
        return [uri for uri in file_uris if uri not in done]

    def record(self, file_uris: list[str], table: str, run_id: str) -> None:
        processed = self.processed()
        moment = utc_now()
        for uri in file_uris:
            processed[uri] = {"table": table, "run_id": run_id, "processed_at": moment}
        stored = {zone_relative(uri, self.zone_uri): entry for uri, entry in processed.items()}
        storage.write_text_atomic(self.uri, json.dumps({"processed": stored}, indent=1, sort_keys=True))
