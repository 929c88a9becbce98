"""The analysts' named queries: one Athena (Trino) SQL file per query in `athena/`.

A file starts with a header of `--` comment lines, up to the first line that is not one:

- the first header line says what the query answers (its title);
- a line `-- :name type  description` (or `-- :name type = default  description`) declares
  a parameter, with type one of PARAMETER_TYPES;
- the other header lines describe the query.

The SQL refers to a parameter as `:name` (sqlglot reads it as a placeholder), and gets its
value as a typed literal (instacart_lake.query.statement), never as pasted text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from instacart_lake.query.errors import QueryError

QUERIES_DIR = Path(__file__).resolve().parents[2] / "athena"
PARAMETER_TYPES = ("integer", "bigint", "double", "varchar", "boolean", "date")
_PARAMETER_LINE = re.compile(
    r"^--\s*:(?P<name>[a-z_][a-z0-9_]*)\s+(?P<type>[a-z]+)(?:\s*=\s*(?P<default>\S+))?\s+(?P<description>\S.*)$")
_DECLARATION = re.compile(r"^--\s*:")


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    description: str
    default: str | None = None


@dataclass(frozen=True)
class NamedQuery:
    """A query's SQL text and what its header says. `source` names it in messages (the file,
    or `--sql` for a query given on the command line)."""

    name: str
    source: str
    sql: str
    title: str = ""
    description: str = ""
    parameters: tuple[Parameter, ...] = ()

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(parameter.name for parameter in self.parameters)


def _header(sql: str) -> list[tuple[int, str]]:
    lines = []
    for number, line in enumerate(sql.splitlines(), start=1):
        stripped = line.strip()
        if not stripped.startswith("--"):
            break
        lines.append((number, stripped))
    return lines


def parse_query(name: str, source: str, sql: str) -> NamedQuery:
    """The query in `sql` with its header read; a malformed parameter line is an error at its line."""
    title, description, parameters = "", [], []
    for number, line in _header(sql):
        if _DECLARATION.match(line):
            declared = _PARAMETER_LINE.match(line)
            if declared is None or declared["type"] not in PARAMETER_TYPES:
                raise QueryError(f"{source}:{number}: a parameter is declared as `-- :name type  description` "
                                 f"with type one of {', '.join(PARAMETER_TYPES)}, not {line!r}")
            parameters.append(Parameter(declared["name"], declared["type"], declared["description"],
                                        declared["default"]))
        elif not title:
            title = line.removeprefix("--").strip()
        else:
            description.append(line.removeprefix("--").strip())
    return NamedQuery(name, source, sql, title, " ".join(part for part in description if part), tuple(parameters))


def load_query_file(path: Path) -> NamedQuery:
    try:
        sql = path.read_text(encoding="utf-8")
    except OSError as error:
        raise QueryError(f"{path}: cannot read the query ({error.strerror})") from None
    return parse_query(path.stem, str(path), sql)


def named_queries(queries_dir: Path = QUERIES_DIR) -> list[NamedQuery]:
    """Every query of the folder, by name."""
    return [load_query_file(path) for path in sorted(queries_dir.glob("*.sql"))]


def find_query(name_or_file: str, queries_dir: Path = QUERIES_DIR) -> NamedQuery:
    """A named query of the folder (`top_reordered_products_by_department`), or a SQL file."""
    path = Path(name_or_file)
    if path.suffix == ".sql" or path.is_file():
        if not path.is_file():
            raise QueryError(f"{path}: no such query file")
        return load_query_file(path)
    named = queries_dir / f"{name_or_file}.sql"
    if not named.is_file():
        known = ", ".join(path.stem for path in sorted(queries_dir.glob("*.sql"))) or "none"
        raise QueryError(f"no query named {name_or_file!r} in {queries_dir} (queries: {known})")
    return load_query_file(named)
