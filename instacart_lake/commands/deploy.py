"""`lake deploy`: package the code and create or update a stage's stacks in order."""

from __future__ import annotations

import argparse

from instacart_lake.commands.options import name_values
from instacart_lake.context import Lake
from instacart_lake.deploy.aws_session import aws_clients, aws_errors_reported, checked_stage
from instacart_lake.deploy.deployment import deploy

HELP = ("package the library, job scripts, Lambda bundle and SageMaker code, upload them to the artifacts bucket "
        "under a content hash, and create or update the stage's CloudFormation stacks in order through change sets")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", required=True, help="the stage to deploy (dev, prod, ...)")
    parser.add_argument("--region", help="the AWS region (default: the aws profile's, LAKE_REGION)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan (stacks and their changes) only")
    parser.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE",
                        help="a template parameter for every stack that declares it (repeatable)")


def run(args: argparse.Namespace, lake: Lake) -> int:
    stage = checked_stage(args.stage)
    overrides = name_values(args.parameter, "--parameter")
    with aws_errors_reported(f"deploy {stage}"):
        clients = aws_clients(args.region)
        changes = deploy(clients, stage, args.dry_run, overrides, print)
    changed = sum(change.action != "none" for change in changes)
    print(f"{'would change' if args.dry_run else 'changed'} {changed} of {len(changes)} stacks")
    return 0
