"""Command-line values shared by the subcommands."""

from __future__ import annotations

from instacart_lake.errors import LakeError


def name_values(pairs: list[str], option: str) -> dict[str, str]:
    """`NAME=VALUE` arguments of a repeatable option as a mapping (the last of a name wins)."""
    values = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise LakeError(f"{option} {pair!r}: expected NAME=VALUE")
        values[name.strip()] = value
    return values
