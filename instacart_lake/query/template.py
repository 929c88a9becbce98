"""The Athena stack (cloudformation/athena.yaml): the analysts' workgroup, whose enforced
configuration writes every result to the artifacts bucket encrypted with the data key, and an
AWS::Athena::NamedQuery per file of athena/ — the file as it is, its `:name` parameters written
as Athena's positional `?` (the console asks for their values in order)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

from instacart_lake.deploy.templates.intrinsics import (
    STAGE_PARAMETER,
    camel,
    key_arn,
    ref,
    resource_parameters,
    sub,
)
from instacart_lake.query.named import QUERIES_DIR, NamedQuery, named_queries
from instacart_lake.query.statement import SOURCE_DIALECT, parse_statement, referenced_tables

SOURCES = "athena/*.sql and instacart_lake/query/template.py"
WORKGROUP = "AnalystsWorkGroup"
WORKGROUP_NAME = "${Stage}-instacart-lake"
"""As lake.toml's athena_workgroup names it for the stage dev."""
RESULTS_PREFIX = "athena-results/"
ENGINE_VERSION = "Athena engine version 3"
"""The engine that reads Delta tables natively (and the Trino dialect of athena/)."""
DESCRIPTION_CHARS = 1024


def positional_sql(query: NamedQuery) -> str:
    """The file's text with each `:name` of the SQL (not of its comments or strings) as `?`."""
    tokens = Dialect.get_or_raise(SOURCE_DIALECT).tokenize(query.sql)
    spans = [(colon.start, name.end + 1) for colon, name in zip(tokens, tokens[1:])
             if colon.token_type is TokenType.COLON and name.start == colon.end + 1
             and name.text in query.parameter_names]
    text, last = [], 0
    for start, end in spans:
        text.extend([query.sql[last:start], "?"])
        last = end
    return "".join([*text, query.sql[last:]]).rstrip("\n")


def _description(query: NamedQuery) -> str:
    statement = parse_statement(query)
    declared = {parameter.name: parameter for parameter in query.parameters}
    order = [declared[node.name] for node in statement.find_all(exp.Placeholder, bfs=False)]
    parameters = "; ".join(f"? {index}: {parameter.name} ({parameter.type}), {parameter.description}"
                           for index, parameter in enumerate(order, start=1))
    text = f"{query.title} {query.description}" + (f" Parameters: {parameters}." if parameters else "")
    return text[:DESCRIPTION_CHARS]


def _named_query(query: NamedQuery) -> dict[str, Any]:
    databases = sorted({table.database for table in referenced_tables(query.source, parse_statement(query))})
    return {
        "Type": "AWS::Athena::NamedQuery",
        "Properties": {
            "Name": query.name,
            "Description": _description(query),
            "Database": databases[0],
            "QueryString": positional_sql(query),
            "WorkGroup": ref(WORKGROUP),
        },
    }


def _workgroup() -> dict[str, Any]:
    return {
        "Type": "AWS::Athena::WorkGroup",
        "Properties": {
            "Name": sub(WORKGROUP_NAME),
            "Description": "The Instacart lake's analysts: the named queries of athena/ (lake query --profile aws).",
            "State": "ENABLED",
            "RecursiveDeleteOption": True,
            "WorkGroupConfiguration": {
                "EnforceWorkGroupConfiguration": True,
                "PublishCloudWatchMetricsEnabled": True,
                "BytesScannedCutoffPerQuery": ref("BytesScannedCutoffPerQuery"),
                "EngineVersion": {"SelectedEngineVersion": ENGINE_VERSION},
                "ResultConfiguration": {
                    "OutputLocation": sub(f"s3://${{ArtifactsBucket}}/{RESULTS_PREFIX}"),
                    "ExpectedBucketOwner": ref("AWS::AccountId"),
                    "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": key_arn()},
                },
            },
        },
    }


def template(queries_dir=QUERIES_DIR) -> dict[str, Any]:
    queries = named_queries(queries_dir)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Instacart lake Athena: the analysts' workgroup and the named queries of athena/.",
        "Parameters": {
            **STAGE_PARAMETER,
            **resource_parameters("ArtifactsBucket", "DataKey"),
            "BytesScannedCutoffPerQuery": {
                "Type": "Number", "Default": 107374182400, "MinValue": 10485760,
                "Description": "Bytes a query of the workgroup may scan before Athena cancels it (default 100 GiB).",
            },
        },
        "Resources": {
            WORKGROUP: _workgroup(),
            **{f"{camel(query.name)}Query": _named_query(query) for query in queries},
        },
        "Outputs": {WORKGROUP: {"Value": ref(WORKGROUP)}},
    }
