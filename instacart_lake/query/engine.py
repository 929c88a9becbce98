"""Where a query runs: DuckDB over the local lake's Delta tables, or Athena with the aws
profile. Either way the tables it reads are looked up in the lake's catalog first."""

from __future__ import annotations

from typing import Mapping

from instacart_lake.aws_clients import boto3_client
from instacart_lake.context import Lake
from instacart_lake.query.athena_engine import AthenaEngine
from instacart_lake.query.errors import QueryError
from instacart_lake.query.governed import persona_access
from instacart_lake.query.local_engine import run_on_duckdb
from instacart_lake.query.named import NamedQuery
from instacart_lake.query.result import QueryResult
from instacart_lake.query.statement import bind
from instacart_lake.query.tables import resolve_tables


def athena_engine(lake: Lake) -> AthenaEngine:
    workgroup = lake.config.athena_workgroup
    if not workgroup:
        raise QueryError(f"profile {lake.config.profile} names no Athena workgroup "
                         "(athena_workgroup in lake.toml, or LAKE_ATHENA_WORKGROUP)")
    return AthenaEngine(boto3_client(lake.config, "athena"), workgroup)


def run_query(lake: Lake, query: NamedQuery, parameters: Mapping[str, str],
              athena: AthenaEngine | None = None, persona: str | None = None) -> QueryResult:
    """Bind the parameters, check the tables in the catalog, and run the query: on DuckDB
    locally (as `persona` reads the tables, when one is given), else on Athena (`athena`, or
    the profile's workgroup), where Lake Formation enforces the policy for the caller."""
    statement = bind(query, parameters)
    tables = resolve_tables(lake.catalog, statement)
    if lake.config.is_local:
        accesses = persona_access(lake, statement, tables, persona) if persona else None
        return run_on_duckdb(statement, tables, accesses)
    if persona:
        raise QueryError(f"--as {persona}: on Athena, Lake Formation enforces the policy for the identity the query "
                         "runs as; assume the persona's role instead")
    return (athena or athena_engine(lake)).run(statement)
