"""The embedded catalog: Glue's shapes in one JSON file in the lake's _meta folder.

Every change is a read-modify-write under an exclusive lock on a sibling lock file, and the
file is replaced atomically, so concurrent processes never lose each other's changes and
readers (who take no lock) always see a whole catalog.
"""

from __future__ import annotations

import copy
import datetime as dt
import fcntl
import json
import os
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

from instacart_lake import storage
from instacart_lake.catalog.base import Catalog
from instacart_lake.catalog.errors import AlreadyExistsError, CatalogError, EntityNotFoundError
from instacart_lake.locations import is_local, uri_to_path

FORMAT_VERSION = 1
Result = TypeVar("Result")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


def _partition_key(values: list[str]) -> str:
    return json.dumps(list(values))


class EmbeddedCatalog(Catalog):
    def __init__(self, catalog_uri: str):
        if not is_local(catalog_uri):
            raise CatalogError(f"the embedded catalog must be a local file, not {catalog_uri}")
        self.catalog_uri = catalog_uri
        self._lock_path = uri_to_path(catalog_uri) + ".lock"

    # -- file and lock --------------------------------------------------------------------

    def _read(self) -> dict:
        if not storage.exists(self.catalog_uri):
            return {"format_version": FORMAT_VERSION, "databases": {}}
        try:
            state = json.loads(storage.read_text(self.catalog_uri))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise CatalogError(f"{self.catalog_uri}: not a catalog file ({error})") from error
        if state.get("format_version") != FORMAT_VERSION:
            raise CatalogError(f"{self.catalog_uri}: unknown catalog format {state.get('format_version')!r}")
        return state

    @contextmanager
    def _locked(self) -> Iterator[None]:
        os.makedirs(os.path.dirname(self._lock_path), exist_ok=True)
        with open(self._lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _change(self, change: Callable[[dict], Result]) -> Result:
        """Apply `change` to the freshest state and write it back; nothing is written if it raises."""
        with self._locked():
            state = self._read()
            result = change(state)
            storage.write_text_atomic(self.catalog_uri, json.dumps(state, indent=1, sort_keys=True))
        return result

    # -- lookups on a state ---------------------------------------------------------------

    def _database(self, state: dict, name: str) -> dict:
        try:
            return state["databases"][name]
        except KeyError:
            raise EntityNotFoundError(f"database {name} not found in {self.catalog_uri}") from None

    def _table(self, state: dict, database: str, name: str) -> dict:
        try:
            return self._database(state, database)["tables"][name]
        except KeyError:
            raise EntityNotFoundError(f"table {database}.{name} not found in {self.catalog_uri}") from None

    # -- databases ------------------------------------------------------------------------

    def ensure_database(self, name: str, description: str = "", location_uri: str | None = None) -> dict:
        current = self._read()["databases"].get(name)
        if current is not None:
            return copy.deepcopy(current["Database"])

        def create(state: dict) -> dict:
            if name not in state["databases"]:
                database = {"Name": name, "Description": description, "Parameters": {}, "CreateTime": _now()}
                if location_uri is not None:
                    database["LocationUri"] = location_uri
                state["databases"][name] = {"Database": database, "tables": {}}
            return copy.deepcopy(state["databases"][name]["Database"])

        return self._change(create)

    def get_databases(self) -> list[dict]:
        databases = self._read()["databases"]
        return [databases[name]["Database"] for name in sorted(databases)]

    # -- tables ---------------------------------------------------------------------------

    def create_table(self, database: str, table_input: dict) -> None:
        name = table_input["Name"]

        def create(state: dict) -> None:
            tables = self._database(state, database)["tables"]
            if name in tables:
                raise AlreadyExistsError(f"table {database}.{name} already exists in {self.catalog_uri}")
            table = {**copy.deepcopy(table_input), "DatabaseName": database, "CreateTime": _now(), "VersionId": "1"}
            tables[name] = {"versions": [table], "partitions": {}}

        self._change(create)

    def update_table(self, database: str, table_input: dict) -> None:
        name = table_input["Name"]

        def update(state: dict) -> None:
            versions = self._table(state, database, name)["versions"]
            previous = versions[-1]
            versions.append({
                **copy.deepcopy(table_input),
                "DatabaseName": database,
                "CreateTime": previous["CreateTime"],
                "UpdateTime": _now(),
                "VersionId": str(int(previous["VersionId"]) + 1),
            })

        self._change(update)

    def get_table(self, database: str, name: str) -> dict | None:
        state = self._read()
        entry = self._database(state, database)["tables"].get(name)
        return entry["versions"][-1] if entry else None

    def get_tables(self, database: str) -> list[dict]:
        tables = self._database(self._read(), database)["tables"]
        return [tables[name]["versions"][-1] for name in sorted(tables)]

    def get_table_versions(self, database: str, name: str) -> list[dict]:
        versions = self._table(self._read(), database, name)["versions"]
        return [{"Table": table, "VersionId": table["VersionId"]} for table in versions]

    def delete_table(self, database: str, name: str) -> None:
        def delete(state: dict) -> None:
            self._table(state, database, name)
            del state["databases"][database]["tables"][name]

        self._change(delete)

    # -- partitions -----------------------------------------------------------------------

    def batch_create_partition(self, database: str, table: str, partition_inputs: list[dict]) -> list[dict]:
        def create(state: dict) -> list[dict]:
            partitions = self._table(state, database, table)["partitions"]
            errors = []
            for partition_input in partition_inputs:
                key = _partition_key(partition_input["Values"])
                if key in partitions:
                    errors.append({
                        "PartitionValues": list(partition_input["Values"]),
                        "ErrorDetail": {"ErrorCode": "AlreadyExistsException",
                                        "ErrorMessage": "Partition already exists."},
                    })
                    continue
                partitions[key] = {**copy.deepcopy(partition_input), "DatabaseName": database,
                                   "TableName": table, "CreationTime": _now()}
            return errors

        return self._change(create)

    def update_partition(self, database: str, table: str, partition_values: list[str],
                         partition_input: dict) -> None:
        def update(state: dict) -> None:
            partitions = self._table(state, database, table)["partitions"]
            old_key = _partition_key(partition_values)
            if old_key not in partitions:
                raise EntityNotFoundError(
                    f"partition {partition_values} of {database}.{table} not found in {self.catalog_uri}")
            new_key = _partition_key(partition_input["Values"])
            if new_key != old_key and new_key in partitions:
                raise AlreadyExistsError(f"partition {partition_input['Values']} of {database}.{table} already exists")
            created = partitions.pop(old_key)["CreationTime"]
            partitions[new_key] = {**copy.deepcopy(partition_input), "DatabaseName": database,
                                   "TableName": table, "CreationTime": created}

        self._change(update)

    def get_partitions(self, database: str, table: str) -> list[dict]:
        partitions = self._table(self._read(), database, table)["partitions"]
        return sorted(partitions.values(), key=lambda partition: partition["Values"])
