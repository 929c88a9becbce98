"""The serving store on AWS: one DynamoDB table (cloudformation/api.yaml), key `pk` (the
item's kind and key, e.g. user#42) and `sk` (its model version); the pointer is the item
pk=pointer, sk=current.

Items go in BatchWriteItem requests of 25, several at a time (a bounded number in flight), and what DynamoDB leaves
unprocessed is sent again with exponential backoff. Every read is strongly consistent, so
that the items written before the pointer switched are seen by a reader that sees the switch.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Iterable

from instacart_lake.errors import LakeError
from instacart_lake.serving.store import Item, Pointer, batched

BATCH_WRITE_ITEMS = 25
BATCH_GET_KEYS = 100
KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
ATTRIBUTE_DEFINITIONS = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}]
"""The table's keys, as cloudformation/api.yaml declares them."""
POINTER_KEY = {"pk": {"S": "pointer"}, "sk": {"S": "current"}}
RETRY_ATTEMPTS = 8
FIRST_BACKOFF_SECONDS = 0.05
WRITERS = 8


def _key(kind: str, key: int, model_version: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"{kind}#{key}"}, "sk": {"S": model_version}}


class DynamoDBServingStore:
    """The store in the DynamoDB table `table_name`, through the boto3 client `client`."""

    def __init__(self, client: Any, table_name: str, writers: int = WRITERS):
        self.client = client
        self.table_name = table_name
        self.writers = writers

    def write_items(self, model_version: str, items: Iterable[Item]) -> None:
        requests = ([{"PutRequest": {"Item": {**_key(item.kind, item.key, model_version),
                                              "document": {"S": item.document}}}} for item in batch]
                    for batch in batched(items, BATCH_WRITE_ITEMS))
        in_flight: set[Future] = set()
        with ThreadPoolExecutor(max_workers=self.writers) as pool:
            for batch in requests:
                if len(in_flight) >= 2 * self.writers:
                    done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in done:
                        future.result()
                in_flight.add(pool.submit(self._write_batch, batch))
            for future in in_flight:
                future.result()

    def _write_batch(self, requests: list[dict[str, Any]]) -> None:
        pending = {self.table_name: requests}
        for attempt in range(RETRY_ATTEMPTS):
            pending = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                return
            time.sleep(FIRST_BACKOFF_SECONDS * 2 ** attempt)
        raise LakeError(f"DynamoDB table {self.table_name}: {len(pending[self.table_name])} items still unprocessed "
                        f"after {RETRY_ATTEMPTS} BatchWriteItem attempts")

    def switch_to(self, pointer: Pointer) -> None:
        self.client.put_item(TableName=self.table_name, Item={**POINTER_KEY, "document": {"S": pointer.to_json()}})

    def current(self) -> Pointer | None:
        item = self.client.get_item(TableName=self.table_name, Key=POINTER_KEY, ConsistentRead=True).get("Item")
        return Pointer.from_json(item["document"]["S"]) if item else None

    def get(self, kind: str, key: int, model_version: str) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table_name, Key=_key(kind, key, model_version),
                                    ConsistentRead=True, ProjectionExpression="document").get("Item")
        return json.loads(item["document"]["S"]) if item else None

    def get_many(self, kind: str, keys: Iterable[int], model_version: str) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        for batch in batched(sorted(set(keys)), BATCH_GET_KEYS):
            pending = {self.table_name: {"Keys": [_key(kind, key, model_version) for key in batch],
                                         "ConsistentRead": True, "ProjectionExpression": "pk, document"}}
            for attempt in range(RETRY_ATTEMPTS):
                answer = self.client.batch_get_item(RequestItems=pending)
                for item in answer["Responses"].get(self.table_name, []):
                    found[int(item["pk"]["S"].partition("#")[2])] = json.loads(item["document"]["S"])
                pending = answer.get("UnprocessedKeys") or {}
                if not pending:
                    break
                time.sleep(FIRST_BACKOFF_SECONDS * 2 ** attempt)
            else:
                raise LakeError(f"DynamoDB table {self.table_name}: keys still unprocessed after "
                                f"{RETRY_ATTEMPTS} BatchGetItem attempts")
        return found
