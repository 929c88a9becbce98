"""The deliverer's position in the stream, written atomically after every delivered object.

`positions` is the last sequence number delivered per shard. Before an object is written, its
plan (`pending`: its id, its time and the last sequence number it takes from each shard) is
written too; a deliverer that dies between the plan and the new positions reads those same
records again on restart and writes the same object under the same key, so the raw zone gets
each record once however often the deliverer is killed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from instacart_lake import storage


@dataclass(frozen=True)
class PlannedObject:
    object_id: str
    arrival: str
    """ISO-8601 arrival time of the object's oldest record: the time in its key."""
    last_sequence: dict[str, str]


@dataclass
class Checkpoint:
    uri: str
    positions: dict[str, str] = field(default_factory=dict)
    pending: PlannedObject | None = None

    @classmethod
    def load(cls, uri: str) -> "Checkpoint":
        if not storage.exists(uri):
            return cls(uri)
        document = json.loads(storage.read_text(uri))
        pending = document.get("pending")
        return cls(uri, document["positions"], PlannedObject(**pending) if pending else None)

    def _save(self) -> None:
        document = {"positions": self.positions, "pending": None if self.pending is None else asdict(self.pending)}
        storage.write_text_atomic(self.uri, json.dumps(document, indent=1, sort_keys=True))

    def plan(self, planned: PlannedObject) -> None:
        self.pending = planned
        self._save()

    def commit(self) -> None:
        """The planned object is written: its records are delivered."""
        self.positions = {**self.positions, **self.pending.last_sequence}
        self.pending = None
        self._save()
