"""Powertools' idempotency records in a JSON file of the lake's meta location, where no
DynamoDB table holds them (the local event loop). The lake comes from the environment on each
call (LAKE_PROFILE, LAKE_ROOT and the other LAKE_* settings), as the local services take it."""

from __future__ import annotations

import json
import time

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from instacart_lake import storage
from instacart_lake.context import Lake

INPROGRESS = "INPROGRESS"


def _record(key: str, fields: dict) -> DataRecord:
    return DataRecord(idempotency_key=key, **fields)


def _fields(record: DataRecord) -> dict:
    return {"status": record.status, "expiry_timestamp": record.expiry_timestamp,
            "in_progress_expiry_timestamp": record.in_progress_expiry_timestamp,
            "response_data": record.response_data, "payload_hash": record.payload_hash}


class EmbeddedPersistenceLayer(BasePersistenceLayer):
    """One JSON object: idempotency key -> the fields of its DataRecord."""

    def _uri(self) -> str:
        return Lake.from_environment().locations.idempotency_uri

    def _load(self) -> dict[str, dict]:
        uri = self._uri()
        return json.loads(storage.read_text(uri)) if storage.exists(uri) else {}

    def _store(self, records: dict[str, dict]) -> None:
        storage.write_text_atomic(self._uri(), json.dumps(records, indent=1, sort_keys=True))

    def _get_record(self, idempotency_key) -> DataRecord:
        records = self._load()
        if idempotency_key not in records:
            raise IdempotencyItemNotFoundError
        return _record(idempotency_key, records[idempotency_key])

    def _put_record(self, data_record: DataRecord) -> None:
        """Refuse a key that holds an unexpired record, unless that record is in progress past
        its in-progress expiry (its invocation died), as the DynamoDB layer's condition does."""
        records = self._load()
        existing = records.get(data_record.idempotency_key)
        if existing is not None:
            old = _record(data_record.idempotency_key, existing)
            abandoned = (old.status == INPROGRESS and old.in_progress_expiry_timestamp is not None
                         and old.in_progress_expiry_timestamp < int(time.time() * 1000))
            if not old.is_expired and not abandoned:
                raise IdempotencyItemAlreadyExistsError(old_data_record=old)
        records[data_record.idempotency_key] = _fields(data_record)
        self._store(records)

    def _update_record(self, data_record: DataRecord) -> None:
        records = self._load()
        records[data_record.idempotency_key] = _fields(data_record)
        self._store(records)

    def _delete_record(self, data_record: DataRecord) -> None:
        records = self._load()
        records.pop(data_record.idempotency_key, None)
        self._store(records)
