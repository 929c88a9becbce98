"""The local serving store: one SQLite file in the lake's meta location.

SQLite because it is embedded (the standard library's sqlite3, no server), keeps one file
that the lake root carries, and in WAL mode lets many readers (the threads of `lake serve`)
read while one export writes; a transaction makes the pointer switch atomic. Items are
committed in batches under their model version, invisible until the pointer names it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable

from instacart_lake.serving.store import Item, Pointer, batched

CURRENT = "current"
BATCH_ITEMS = 5000
SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    model_version TEXT NOT NULL, kind TEXT NOT NULL, key INTEGER NOT NULL, document TEXT NOT NULL,
    PRIMARY KEY (model_version, kind, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pointer (name TEXT PRIMARY KEY, document TEXT NOT NULL) WITHOUT ROWID;
"""


class EmbeddedServingStore:
    """The store in the SQLite file at `path`, one connection per thread."""

    def __init__(self, path: Path, batch_items: int = BATCH_ITEMS):
        self.path = Path(path)
        self.batch_items = batch_items
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(SCHEMA)
            self._local.connection = connection
        return connection

    def write_items(self, model_version: str, items: Iterable[Item]) -> None:
        connection = self._connection()
        for batch in batched(items, self.batch_items):
            with connection:
                connection.execute("BEGIN")
                connection.executemany("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)",
                                       [(model_version, item.kind, item.key, item.document) for item in batch])

    def switch_to(self, pointer: Pointer) -> None:
        with self._connection() as connection:
            connection.execute("BEGIN")
            connection.execute("INSERT OR REPLACE INTO pointer VALUES (?, ?)", (CURRENT, pointer.to_json()))

    def current(self) -> Pointer | None:
        row = self._connection().execute("SELECT document FROM pointer WHERE name = ?", (CURRENT,)).fetchone()
        return Pointer.from_json(row[0]) if row else None

    def get(self, kind: str, key: int, model_version: str) -> dict[str, Any] | None:
        row = self._connection().execute(
            "SELECT document FROM items WHERE model_version = ? AND kind = ? AND key = ?",
            (model_version, kind, key)).fetchone()
        return json.loads(row[0]) if row else None

    def get_many(self, kind: str, keys: Iterable[int], model_version: str) -> dict[int, dict[str, Any]]:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        marks = ", ".join("?" * len(wanted))
        rows = self._connection().execute(
            f"SELECT key, document FROM items WHERE model_version = ? AND kind = ? AND key IN ({marks})",
            (model_version, kind, *wanted)).fetchall()
        return {key: json.loads(document) for key, document in rows}
