"""The analysts' SQL: the named Athena queries of `athena/`, run on Athena with the aws
profile and on DuckDB over the local lake's Delta tables."""

from instacart_lake.query.athena_engine import AthenaEngine
from instacart_lake.query.engine import run_query
from instacart_lake.query.errors import ParameterError, QueryError, QuerySyntaxError, UnknownTableError
from instacart_lake.query.named import QUERIES_DIR, NamedQuery, Parameter, find_query, named_queries, parse_query
from instacart_lake.query.result import Column, QueryResult
from instacart_lake.query.statement import Statement, TableName, bind

__all__ = [
    "QUERIES_DIR", "AthenaEngine", "Column", "NamedQuery", "Parameter", "ParameterError", "QueryError",
    "QueryResult", "QuerySyntaxError", "Statement", "TableName", "UnknownTableError", "bind", "find_query",
    "named_queries", "parse_query", "run_query",
]
