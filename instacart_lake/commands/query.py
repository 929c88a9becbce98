"""`lake query`: a named Athena query of athena/, a SQL file or a statement, run on DuckDB
over the local lake or on Athena with the aws profile."""

from __future__ import annotations

import argparse
import sys

from rich.table import Table

from instacart_lake.commands.options import name_values
from instacart_lake.context import Lake
from instacart_lake.progress import new_console
from instacart_lake.query import QUERIES_DIR, QueryError, find_query, named_queries, parse_query, run_query
from instacart_lake.query.output import FORMATS, print_table, write_csv, write_json

HELP = ("run an Athena (Trino) SQL query — a named query of athena/, a .sql file or --sql TEXT — on DuckDB "
        "over the local lake's Delta tables, or on Athena with the aws profile")
INLINE_SOURCE = "--sql"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", nargs="?", metavar="NAME|FILE",
                        help=f"a query of {QUERIES_DIR.name}/ by name, or a .sql file")
    parser.add_argument("--sql", default=None, metavar="TEXT", help="the SQL of a query to run")
    parser.add_argument("--param", action="append", default=[], metavar="K=V",
                        help="a value for the query's parameter :K (repeat for each parameter)")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.add_argument("--list", action="store_true", help=f"list the named queries of {QUERIES_DIR.name}/")
    parser.add_argument("--as", dest="persona", default=None, metavar="PERSONA",
                        help="read as a persona of lakeformation/policy.toml: its tables, columns and rows only "
                             "(local engine)")


def print_named_queries() -> None:
    listing = Table("name", "answers", "parameters")
    for query in named_queries():
        listing.add_row(query.name, query.title,
                        ", ".join(f":{p.name} {p.type}" + (f" = {p.default}" if p.default else "")
                                  for p in query.parameters))
    new_console().print(listing)


def run(args: argparse.Namespace, lake: Lake) -> int:
    if args.list:
        print_named_queries()
        return 0
    if (args.query is None) == (args.sql is None):
        raise QueryError("give a query NAME or FILE, or --sql TEXT (one of them; --list shows the named queries)")
    query = find_query(args.query) if args.sql is None else parse_query("sql", INLINE_SOURCE, args.sql)
    result = run_query(lake, query, name_values(args.param, "--param"), persona=args.persona)
    if args.format == "csv":
        write_csv(result, sys.stdout)
    elif args.format == "json":
        write_json(result, sys.stdout)
    else:
        print_table(result, new_console())
    return 0
