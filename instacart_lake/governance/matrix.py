"""`lake governance matrix`: for every table of the lake and every persona, what the policy
gives: read (all of it, or without some columns, or some rows), write, or nothing."""

from __future__ import annotations

from dataclasses import dataclass

from instacart_lake.catalog.names import TableName
from instacart_lake.governance.access import read_access, writes
from instacart_lake.governance.policy import Policy


@dataclass(frozen=True)
class Cell:
    """What one persona may do with one table."""

    read: bool
    hidden_columns: tuple[str, ...]
    row_filter: str | None
    write: bool

    @property
    def code(self) -> str:
        """`r`, `w`, `rw` or `-`, with `*` when the read is restricted to some columns or rows."""
        code = ("r" if self.read else "") + ("w" if self.write else "")
        return (code or "-") + ("*" if self.restriction else "")

    @property
    def restriction(self) -> str:
        parts = []
        if self.hidden_columns:
            parts.append("without " + ", ".join(self.hidden_columns))
        if self.row_filter:
            parts.append(f"rows where {self.row_filter}")
        return "; ".join(parts)


@dataclass(frozen=True)
class MatrixRow:
    table: TableName
    cells: tuple[Cell, ...]
    """One per persona, in the policy's order."""


def access_cell(policy: Policy, persona: str, table: TableName, columns: tuple[str, ...]) -> Cell:
    access = read_access(policy, persona, table, columns)
    hidden = tuple(column for column in columns if column not in access.columns) if access.readable else ()
    return Cell(access.readable, hidden, access.row_filter, bool(writes(policy, persona, table)))


def access_matrix(policy: Policy, tables: dict[TableName, tuple[str, ...]]) -> list[MatrixRow]:
    return [MatrixRow(table, tuple(access_cell(policy, persona, table, columns) for persona in policy.personas))
            for table, columns in tables.items()]
