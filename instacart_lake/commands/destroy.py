"""`lake destroy`: remove a stage's stacks, refusing while its zone buckets hold data."""

from __future__ import annotations

import argparse

from instacart_lake.context import Lake
from instacart_lake.deploy.aws_session import aws_clients, aws_errors_reported, checked_stage
from instacart_lake.deploy.deployment import destroy

HELP = ("delete a stage's CloudFormation stacks, last first; refused while a zone bucket holds data "
        "unless --delete-data")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", required=True, help="the stage to remove")
    parser.add_argument("--region", help="the AWS region (default: the aws profile's, LAKE_REGION)")
    parser.add_argument("--delete-data", action="store_true",
                        help="also delete the data in the zone buckets (every object version)")


def run(args: argparse.Namespace, lake: Lake) -> int:
    stage = checked_stage(args.stage)
    with aws_errors_reported(f"destroy {stage}"):
        deleted = destroy(aws_clients(args.region), stage, args.delete_data, print)
    print(f"stage {stage}: {len(deleted)} stacks deleted")
    return 0
