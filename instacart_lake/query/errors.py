"""The query errors: each names where the problem is (file, line and column; the table; the
parameter) in one line, as every LakeError does."""

from instacart_lake.errors import LakeError


class QueryError(LakeError):
    """A query could not be run: bad SQL, a table or parameter missing, an engine's refusal."""


class QuerySyntaxError(QueryError):
    """The SQL does not parse; the message starts with `file:line:column`."""


class UnknownTableError(QueryError):
    """The query reads a table the catalog does not have; the message lists the tables it has."""


class ParameterError(QueryError):
    """A parameter is missing, unknown to the query, or not of its declared type."""
