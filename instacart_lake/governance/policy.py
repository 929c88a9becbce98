"""The access policy (lakeformation/policy.toml) read into plain values: LF-tags, the tags of
databases, tables and columns, personas, grants and data cells filters, each with the line
where the file writes it. A file that is not shaped as a policy is an error at its line;
what its names refer to is checked in instacart_lake.governance.checks."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Hashable

from instacart_lake.catalog.names import TableName
from instacart_lake.errors import LakeError
from instacart_lake.governance.lines import KeyLines

POLICY_PATH = Path(__file__).resolve().parents[2] / "lakeformation" / "policy.toml"
PERSON = "person"
PERSONA_KINDS = (PERSON, "job", "crawler", "service")
TABLE_PERMISSIONS = ("SELECT", "INSERT", "DELETE", "DESCRIBE", "ALTER", "DROP")
DATABASE_PERMISSIONS = ("CREATE_TABLE", "DESCRIBE", "ALTER", "DROP")
_TOML_ERROR_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)$")
SECTIONS = ("tags", "databases", "tables", "columns", "personas", "grants", "filters")
PERSONA_KEYS = ("kind", "description", "role", "data_locations", "administers")
GRANT_KEYS = ("name", "personas", "expression", "table_permissions", "database_permissions")
FILTER_KEYS = ("name", "table", "personas", "rows", "excluded_columns", "description")


def shown(path: Path) -> str:
    """The path as messages show it: relative to the working folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class PolicyError(LakeError):
    """The policy is malformed or names what does not exist; the message starts with file:line."""


@dataclass(frozen=True)
class Persona:
    name: str
    kind: str
    description: str
    role: str | None
    """A role of an earlier stack (its logical id); None for people, whose role the governance stack defines."""
    data_locations: tuple[str, ...]
    """Zones, or zone/prefix, where the role may create tables (DATA_LOCATION_ACCESS)."""
    administers: bool = False
    """A Lake Formation administrator (it may grant; it reads only what it is granted)."""


@dataclass(frozen=True)
class Grant:
    name: str
    personas: tuple[str, ...]
    expression: dict[str, tuple[str, ...]]
    table_permissions: tuple[str, ...]
    database_permissions: tuple[str, ...]
    index: int
    """Its place among the file's [[grants]]."""

    def matches(self, tags: dict[str, str]) -> bool:
        """Whether a resource with these tags satisfies the expression (every key, one of its values)."""
        return all(tags.get(key) in values for key, values in self.expression.items())


@dataclass(frozen=True)
class CellsFilter:
    """A data cells filter: SELECT on `table`'s columns but `excluded_columns`, rows where `rows` holds."""

    name: str
    table: TableName
    personas: tuple[str, ...]
    rows: str | None
    excluded_columns: tuple[str, ...]
    description: str
    index: int


@dataclass(frozen=True)
class Policy:
    path: Path
    lines: KeyLines
    tags: dict[str, tuple[str, ...]]
    databases: dict[str, dict[str, str]]
    tables: dict[TableName, dict[str, str]]
    columns: dict[tuple[TableName, str], dict[str, str]]
    personas: dict[str, Persona]
    grants: tuple[Grant, ...]
    filters: tuple[CellsFilter, ...]

    def where(self, path: tuple[Hashable, ...], value: str | None = None) -> str:
        """`file:line` of a key of the policy (or of a value written under it)."""
        return f"{shown(self.path)}:{self.lines.line(path, value)}"

    def grant_rule(self, grant: Grant) -> str:
        return f"grant {grant.name} ({self.where(('grants', grant.index))})"

    def filter_rule(self, cells_filter: CellsFilter) -> str:
        return f"filter {cells_filter.name} ({self.where(('filters', cells_filter.index))})"

    def table_tags(self, table: TableName) -> dict[str, str]:
        """A table's tags: its database's, each replaced by the table's own for that key."""
        return {**self.databases.get(table.database, {}), **self.tables.get(table, {})}

    def column_tags(self, table: TableName, column: str) -> dict[str, str]:
        return {**self.table_tags(table), **self.columns.get((table, column), {})}


class _Reader:
    """Reads one policy document, raising a PolicyError at the line of the first misshapen key."""

    def __init__(self, path: Path, lines: KeyLines):
        self.path = path
        self.lines = lines

    def fail(self, where: tuple[Hashable, ...], message: str) -> PolicyError:
        return PolicyError(f"{shown(self.path)}:{self.lines.line(where)}: {message}")

    def mapping(self, value: Any, where: tuple[Hashable, ...], what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"{what} is a table (`[{'.'.join(map(str, where))}]` or `{{ ... }}`)")
        return value

    def text(self, value: Any, where: tuple[Hashable, ...], what: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(where, f"{what} is a non-empty string, not {value!r}")
        return value

    def texts(self, value: Any, where: tuple[Hashable, ...], what: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise self.fail(where, f"{what} is a list of strings, not {value!r}")
        return tuple(value)

    def known_keys(self, value: dict[str, Any], allowed: tuple[str, ...], where: tuple[Hashable, ...]) -> None:
        for key in value:
            if key not in allowed:
                raise self.fail((*where, key), f"unknown key {key!r} (keys: {', '.join(allowed)})")

    def table_name(self, text: str, where: tuple[Hashable, ...]) -> TableName:
        database, dot, table = text.partition(".")
        if not dot or not database or not table or "." in table:
            raise self.fail(where, f"{text!r} is not database.table")
        return TableName(database, table)

    def tag_assignment(self, value: Any, where: tuple[Hashable, ...]) -> dict[str, str]:
        tags = self.mapping(value, where, "a tag assignment")
        return {key: self.text(tag_value, (*where, key), f"the {key} tag") for key, tag_value in tags.items()}

    def persona(self, name: str, value: Any) -> Persona:
        where = ("personas", name)
        entry = self.mapping(value, where, f"persona {name}")
        self.known_keys(entry, PERSONA_KEYS, where)
        kind = self.text(entry.get("kind"), (*where, "kind"), "kind")
        if kind not in PERSONA_KINDS:
            raise self.fail((*where, "kind"),
                            f"persona {name}: kind is one of {', '.join(PERSONA_KINDS)}, not {kind!r}")
        role = entry.get("role")
        if (kind == PERSON) != (role is None):
            raise self.fail(where, f"persona {name}: a {kind} " + (
                "has no role (the governance stack defines it)" if kind == PERSON
                else "names its role (a resource of an earlier stack, e.g. RawToCleanRole)"))
        administers = entry.get("administers", False)
        if not isinstance(administers, bool):
            raise self.fail((*where, "administers"), f"persona {name}: administers is true or false")
        return Persona(name, kind, entry.get("description", ""),
                       None if role is None else self.text(role, (*where, "role"), "role"),
                       self.texts(entry.get("data_locations", []), (*where, "data_locations"), "data_locations"),
                       administers)

    def grant(self, index: int, value: Any) -> Grant:
        where = ("grants", index)
        entry = self.mapping(value, where, "a grant")
        self.known_keys(entry, GRANT_KEYS, where)
        name = self.text(entry.get("name"), (*where, "name"), "a grant's name")
        expression = self.mapping(entry.get("expression", {}), (*where, "expression"), f"grant {name}: expression")
        return Grant(
            name,
            self.texts(entry.get("personas"), (*where, "personas"), f"grant {name}: personas"),
            {key: self.texts(values, (*where, "expression"), f"grant {name}: expression {key}")
             for key, values in expression.items()},
            self.texts(entry.get("table_permissions", []), (*where, "table_permissions"), "table_permissions"),
            self.texts(entry.get("database_permissions", []), (*where, "database_permissions"),
                       "database_permissions"),
            index,
        )

    def cells_filter(self, index: int, value: Any) -> CellsFilter:
        where = ("filters", index)
        entry = self.mapping(value, where, "a filter")
        self.known_keys(entry, FILTER_KEYS, where)
        name = self.text(entry.get("name"), (*where, "name"), "a filter's name")
        rows = entry.get("rows")
        return CellsFilter(
            name,
            self.table_name(self.text(entry.get("table"), (*where, "table"), f"filter {name}: table"),
                            (*where, "table")),
            self.texts(entry.get("personas"), (*where, "personas"), f"filter {name}: personas"),
            None if rows is None else self.text(rows, (*where, "rows"), f"filter {name}: rows"),
            self.texts(entry.get("excluded_columns", []), (*where, "excluded_columns"), "excluded_columns"),
            entry.get("description", ""),
            index,
        )

    def policy(self, document: dict[str, Any]) -> Policy:
        self.known_keys(document, SECTIONS, ())
        sections = {name: document.get(name, [] if name in ("grants", "filters") else {}) for name in SECTIONS}
        for name in ("grants", "filters"):
            if not isinstance(sections[name], list):
                raise self.fail((name,), f"{name} are [[{name}]] tables")
        columns = {}
        for text, tags in self.mapping(sections["columns"], ("columns",), "columns").items():
            table, dot, column = text.rpartition(".")
            if not dot or not column:
                raise self.fail(("columns", text), f"{text!r} is not database.table.column")
            columns[(self.table_name(table, ("columns", text)), column)] = self.tag_assignment(tags, ("columns", text))
        return Policy(
            path=self.path,
            lines=self.lines,
            tags={key: self.texts(values, ("tags", key), f"tag {key}: values")
                  for key, values in self.mapping(sections["tags"], ("tags",), "tags").items()},
            databases={name: self.tag_assignment(tags, ("databases", name))
                       for name, tags in self.mapping(sections["databases"], ("databases",), "databases").items()},
            tables={self.table_name(text, ("tables", text)): self.tag_assignment(tags, ("tables", text))
                    for text, tags in self.mapping(sections["tables"], ("tables",), "tables").items()},
            columns=columns,
            personas={name: self.persona(name, value)
                      for name, value in self.mapping(sections["personas"], ("personas",), "personas").items()},
            grants=tuple(self.grant(index, value) for index, value in enumerate(sections["grants"])),
            filters=tuple(self.cells_filter(index, value) for index, value in enumerate(sections["filters"])),
        )


def read_policy(path: Path = POLICY_PATH) -> Policy:
    """The policy file as values; not checked against the lake's tables (see load_policy)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError(f"{shown(path)}: cannot read the policy ({error.strerror})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        located = _TOML_ERROR_LINE.search(str(error))
        line = f":{located[1]}" if located else ""
        raise PolicyError(f"{shown(path)}{line}: not TOML: {_TOML_ERROR_LINE.sub('', str(error))}") from None
    return _Reader(path, KeyLines(text)).policy(document)
