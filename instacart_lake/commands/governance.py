"""`lake governance`: the access policy of lakeformation/ — check it, print who may read and
write which table, and apply it to a deployed stage's Lake Formation."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import boto3
from rich.table import Table

from instacart_lake.config import load_config
from instacart_lake.context import Lake
from instacart_lake.deploy.aws_session import aws_errors_reported, checked_stage
from instacart_lake.governance import POLICY_PATH, PolicyError, read_policy
from instacart_lake.governance.apply import apply_policy, stage_deployment, stage_resources
from instacart_lake.governance.checks import policy_problems
from instacart_lake.governance.loading import load_policy
from instacart_lake.governance.matrix import access_matrix
from instacart_lake.governance.policy import shown
from instacart_lake.governance.tables import lake_tables
from instacart_lake.progress import new_console

HELP = ("the access policy (lakeformation/policy.toml): check it, print the persona x table access matrix, "
        "or apply it to a deployed stage's Lake Formation")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, description in (("check", "refuse a policy that names an unknown table, column, tag or persona"),
                              ("matrix", "print what each persona may read and write of each table"),
                              ("apply", "make the policy's Lake Formation settings, tags and grants on a stage")):
        action = actions.add_parser(name, help=description, description=description)
        action.add_argument("--policy", type=Path, default=POLICY_PATH, help="the policy file (default: %(default)s)")
        if name == "apply":
            action.add_argument("--stage", required=True, help="the deployed stage (dev, prod, ...)")
            action.add_argument("--region", help="the AWS region (default: the aws profile's, LAKE_REGION)")


def check(args: argparse.Namespace, lake: Lake) -> int:
    policy = read_policy(args.policy)
    tables = lake_tables(lake.locations)
    problems = policy_problems(policy, tables)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        raise PolicyError(f"{shown(args.policy)}: {len(problems)} problem{'s' * (len(problems) > 1)}")
    print(f"{shown(args.policy)}: {len(policy.personas)} personas, {len(policy.grants)} grants and "
          f"{len(policy.filters)} data cells filters over {len(tables)} tables: no problem")
    return 0


def matrix(args: argparse.Namespace, lake: Lake) -> int:
    policy = load_policy(lake.locations, args.policy)
    personas = list(policy.personas)
    table = Table(title=f"access by {shown(args.policy)}: r read, w write, * some columns or rows",
                  caption=" ".join(f"{number}={name}" for number, name in enumerate(personas, start=1)))
    table.add_column("table", no_wrap=True)
    for number in range(1, len(personas) + 1):
        table.add_column(str(number), justify="center")
    rows = access_matrix(policy, lake_tables(lake.locations))
    for row in rows:
        table.add_row(str(row.table), *(cell.code for cell in row.cells))
    console = new_console()
    console.print(table)
    for row in rows:
        for persona, cell in zip(personas, row.cells):
            if cell.restriction:
                console.print(f"* {persona} reads {row.table} {cell.restriction}", highlight=False)
    return 0


def apply(args: argparse.Namespace, lake: Lake) -> int:
    stage = checked_stage(args.stage)
    config = load_config(profile="aws")
    policy = load_policy(lake.locations, args.policy)
    with aws_errors_reported(f"governance apply {stage}"):
        session = boto3.Session(region_name=args.region or config.region)
        account = session.client("sts", endpoint_url=config.endpoint_url).get_caller_identity()["Account"]
        resources = stage_resources(session.client("cloudformation", endpoint_url=config.endpoint_url), stage)
        deployment = stage_deployment(policy, resources, account, session.get_partition_for_region(
            session.region_name) if session.region_name else "aws")
        apply_policy(session.client("lakeformation", endpoint_url=config.endpoint_url), policy, deployment, print)
    return 0


ACTIONS = {"check": check, "matrix": matrix, "apply": apply}


def run(args: argparse.Namespace, lake: Lake) -> int:
    return ACTIONS[args.action](args, lake)
