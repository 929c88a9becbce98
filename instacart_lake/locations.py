"""Every location in the lake, as a URI. Nothing else joins paths to zones.

Local zones are `file://` folders under the lake root; on AWS they are S3 bucket URIs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from instacart_lake.config import ZONES, LakeConfig
from instacart_lake.orchestration.definition import load_definition


@dataclass(frozen=True)
class Locations:
    config: LakeConfig

    def zone_uri(self, zone: str) -> str:
        if zone not in ZONES:
            raise ValueError(f"unknown zone {zone!r}; zones are {', '.join(ZONES)}")
        return self.config.zone_uris[zone]

    def database(self, zone: str) -> str:
        """The catalog database of a zone, e.g. instacart_raw."""
        self.zone_uri(zone)
        return f"{self.config.database_prefix}_{zone}"

    def table_uri(self, zone: str, table: str) -> str:
        return f"{self.zone_uri(zone)}/{table}"

    def raw_landing_uri(self, table: str, ingest_date: dt.date) -> str:
        """The raw-zone partition a batch lands in: <raw>/<table>/ingest_date=YYYY-MM-DD."""
        return f"{self.table_uri('raw', table)}/ingest_date={ingest_date.isoformat()}"

    def raw_staging_uri(self) -> str:
        """Where files are copied before the rename that makes them visible (never crawled)."""
        return f"{self.zone_uri('raw')}/_staging"

    def raw_batch_uri(self, run_id: str) -> str:
        """The batch marker of one ingest (the files it landed), under the key prefix and suffix
        that the raw zone's S3 event notification matches: one event per ingest."""
        return f"{self.zone_uri('raw')}/{load_definition().raw_files_landed.object_key(run_id)}"

    def quarantine_table_uri(self, table: str) -> str:
        return self.table_uri("clean", f"{table}_quarantine")

    def ml_set_uri(self, name: str) -> str:
        """A folder of CSV files of the ML-ready sets: the training channels train and
        validation, and the scored sets inference and validation_ids (see curated_to_ml)."""
        return f"{self.zone_uri('ml')}/sets/{name}"

    @property
    def ml_models_uri(self) -> str:
        return f"{self.zone_uri('ml')}/models"

    @property
    def ml_scores_uri(self) -> str:
        return f"{self.zone_uri('ml')}/scores"

    def meta_uri(self, name: str) -> str:
        """Lake metadata outside the zones: the local catalog, ledgers, run records, manifests."""
        return f"{self.config.meta_uri}/{name}"

    @property
    def catalog_uri(self) -> str:
        return self.meta_uri("catalog.json")

    @property
    def ingest_manifest_uri(self) -> str:
        return self.meta_uri("ingest_manifest.jsonl")

    def ledger_uri(self, job_name: str) -> str:
        return self.meta_uri(f"ledger/{job_name}.json")

    @property
    def runs_uri(self) -> str:
        return self.meta_uri("runs")

    @property
    def job_runs_uri(self) -> str:
        """The local services' job runs (instacart_lake.orchestration.job_runs)."""
        return self.meta_uri("job_runs.json")

    def job_results_uri(self, job_run_id: str) -> str:
        """What a Glue job run reported (its counts per table), written by the job itself."""
        return self.meta_uri(f"job_results/{job_run_id}.json")

    @property
    def idempotency_uri(self) -> str:
        """The handlers' idempotency records where no DynamoDB table holds them."""
        return self.meta_uri("idempotency.json")


def uri_to_path(uri: str) -> str:
    """The local path of a file:// URI (or a plain path, returned as it is)."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return unquote(parsed.path) if parsed.scheme else uri
    raise ValueError(f"{uri} is not a local path")


def is_local(uri: str) -> bool:
    return urlparse(uri).scheme in ("", "file")
