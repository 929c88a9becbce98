"""The ledger of processed raw files: job 1's incremental reads.

A file is recorded only after everything made from it is committed, so a run that dies
leaves its files pending and the next run takes them again (its writes merge by key, so
taking a file twice changes nothing). On Glue the same ledger lives in the meta location on
S3: Glue job bookmarks follow DynamicFrame reads only, and job 1 reads raw lines with their
file and line numbers through Spark's text source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from instacart_lake import storage
from instacart_lake.runs import utc_now


@dataclass(frozen=True)
class Ledger:
    uri: str

    def processed(self) -> dict[str, dict]:
        """File URI -> {table, run_id, processed_at} for every processed file."""
        if not storage.exists(self.uri):
            return {}
        return json.loads(storage.read_text(self.uri))["processed"]

    def pending(self, file_uris: list[str]) -> list[str]:
        done = self.processed()
        return [uri for uri in file_uris if uri not in done]

    def record(self, file_uris: list[str], table: str, run_id: str) -> None:
        processed = self.processed()
        moment = utc_now()
        for uri in file_uris:
            processed[uri] = {"table": table, "run_id": run_id, "processed_at": moment}
        storage.write_text_atomic(self.uri, json.dumps({"processed": processed}, indent=1, sort_keys=True))
