"""The catalog interface. Both implementations take and return the dictionaries of boto3's
Glue client (DatabaseInput/Database, TableInput/Table, PartitionInput/Partition), with
timestamps as ISO-8601 strings so that every result is plain JSON."""

from __future__ import annotations

from abc import ABC, abstractmethod


class Catalog(ABC):
    @abstractmethod
    def ensure_database(self, name: str, description: str = "", location_uri: str | None = None) -> dict:
        """The Database named `name`, created with this description and location if missing."""

    @abstractmethod
    def get_databases(self) -> list[dict]:
        """All databases, sorted by name."""

    @abstractmethod
    def create_table(self, database: str, table_input: dict) -> None:
        """Create a table (version 1). AlreadyExistsError if it exists, EntityNotFoundError
        if the database does not."""

    @abstractmethod
    def update_table(self, database: str, table_input: dict) -> None:
        """Replace a table's definition; the previous definition stays as an older version."""

    @abstractmethod
    def get_table(self, database: str, name: str) -> dict | None:
        """The current Table, or None when there is no such table. EntityNotFoundError when
        the database does not exist."""

    @abstractmethod
    def get_tables(self, database: str) -> list[dict]:
        """The current Table of every table in a database, sorted by name."""

    @abstractmethod
    def get_table_versions(self, database: str, name: str) -> list[dict]:
        """Every version of a table as {"Table": ..., "VersionId": "n"}, oldest first."""

    @abstractmethod
    def delete_table(self, database: str, name: str) -> None:
        """Delete a table with its versions and partitions."""

    @abstractmethod
    def batch_create_partition(self, database: str, table: str, partition_inputs: list[dict]) -> list[dict]:
        """Create partitions; returns Glue's per-partition errors ({"PartitionValues": [...],
        "ErrorDetail": {"ErrorCode": ..., "ErrorMessage": ...}}), empty when all were created."""

    @abstractmethod
    def update_partition(self, database: str, table: str, partition_values: list[str],
                         partition_input: dict) -> None:
        """Replace the definition of the partition with these values."""

    @abstractmethod
    def get_partitions(self, database: str, table: str) -> list[dict]:
        """Every Partition of a table, sorted by values."""
