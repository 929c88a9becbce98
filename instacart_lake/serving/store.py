"""The serving store: the gold tables of one model version as items a client reads by key.

Items are written under their model version; a pointer names the current version and is
switched only after every item of a new version is written, and items of earlier versions
are kept, so a reader sees one complete version: the old one or the new one, never a mix.
DynamoDB holds them on AWS (instacart_lake.serving.dynamodb), an SQLite file in the lake's
meta location locally (instacart_lake.serving.embedded).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from itertools import islice
from typing import Any, Iterable, Iterator, Protocol, TypeVar

USER = "user"
PRODUCT = "product"
KINDS = (USER, PRODUCT)
Element = TypeVar("Element")


def batched(elements: Iterable[Element], size: int) -> Iterator[list[Element]]:
    """Lists of `size` elements, the last one shorter (itertools.batched of Python 3.12)."""
    iterator = iter(elements)
    while batch := list(islice(iterator, size)):
        yield batch


@dataclass(frozen=True)
class Item:
    """One key of the store: a user's next basket and reorder scores, or a product."""

    kind: str
    key: int
    document: str
    """The item's JSON text (documents.py says what it holds)."""


@dataclass(frozen=True)
class Pointer:
    """The current model version and what its export wrote."""

    model_version: str
    exported_at: str
    users: int
    products: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Pointer":
        return cls(**json.loads(text))


class ServingStore(Protocol):
    def write_items(self, model_version: str, items: Iterable[Item]) -> None:
        """Write `items` under `model_version`; readers do not see them before switch_to."""

    def switch_to(self, pointer: Pointer) -> None:
        """Make the pointer's model version the current one, at once for every reader."""

    def current(self) -> Pointer | None:
        """The current model version; None before the first export."""

    def get(self, kind: str, key: int, model_version: str) -> dict[str, Any] | None:
        """The document of one item of `model_version`; None when there is none."""

    def get_many(self, kind: str, keys: Iterable[int], model_version: str) -> dict[int, dict[str, Any]]:
        """The documents of the items of `model_version` that exist among `keys`, by key."""


def export_version(store: ServingStore, model_version: str, items: Iterable[Item],
                   now: dt.datetime | None = None) -> Pointer:
    """Write every item of `model_version`, then switch the pointer to it."""
    counts = dict.fromkeys(KINDS, 0)

    def counted(source: Iterable[Item]) -> Iterable[Item]:
        for item in source:
            counts[item.kind] += 1
            yield item

    store.write_items(model_version, counted(items))
    moment = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
    pointer = Pointer(model_version, moment.isoformat().replace("+00:00", "Z"), counts[USER], counts[PRODUCT])
    store.switch_to(pointer)
    return pointer
