"""The `lake` command. Each subcommand lives in instacart_lake.commands.<name> and provides
HELP, add_arguments(parser) and run(args, lake) -> exit code.

Every failure the user can act on is one line on stderr, `lake <command>: error: <message>`
(`lake <command>: interrupted` for Ctrl-C, `terminated` for SIGTERM), and an exit code that
says its kind (instacart_lake.failures):

| exit code | failure |
|---|---|
| 0 | done |
| 1 | a LakeError: bad input, a refused file, a failed stage |
| 69 | no AWS credentials for the aws profile |
| 74 | no space left on the device (also inside a job's process), or another I/O error |
| 75 | the lake is locked by another run or ingest |
| 77 | permission denied, or a read-only file system |
| 78 | the lake root is not a folder |
| 130 | interrupted (Ctrl-C) |
| 141 | the reader of the output went away (a closed pipe) |
| 143 | terminated (SIGTERM): stopped as on Ctrl-C |

Any other exception is a bug, and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from instacart_lake.context import Lake
from instacart_lake.failures import (
    INTERRUPTIONS,
    check_aws_credentials,
    check_lake_root,
    classify,
    local_lake_root,
    terminate_as_interrupt,
)

SUBCOMMANDS = {
    "generate": "instacart_lake.commands.generate",
    "stats": "instacart_lake.commands.stats",
    "ingest": "instacart_lake.commands.ingest",
    "crawl": "instacart_lake.commands.crawl",
    "catalog": "instacart_lake.commands.catalog",
    "run": "instacart_lake.commands.run",
    "status": "instacart_lake.commands.status",
    "report": "instacart_lake.commands.report",
    "alarms": "instacart_lake.commands.alarms",
    "stream": "instacart_lake.commands.stream",
    "query": "instacart_lake.commands.query",
    "governance": "instacart_lake.commands.governance",
    "serve": "instacart_lake.commands.serve",
    "deploy": "instacart_lake.commands.deploy",
    "destroy": "instacart_lake.commands.destroy",
    "vacuum": "instacart_lake.commands.vacuum",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lake",
        description="The Instacart data lake: ingest, crawl, clean, curate, train and score.",
    )
    parser.add_argument(
        "--lake-root",
        default=os.environ.get("LAKE_ROOT"),
        help="folder of the local lake (default: $LAKE_ROOT, else ./lake)",
    )
    parser.add_argument(
        "--profile",
        default=None,
        help="configuration profile: local or aws (default: $LAKE_PROFILE, else local)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        subparser = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(subparser)
        subparser.set_defaults(handler=module.run)
    return parser


STANDALONE_COMMANDS = frozenset({"generate", "stats", "governance", "deploy", "destroy"})
"""Commands that work without the lake (deploy and destroy reach AWS with their own checks)."""


def checked_lake(args: argparse.Namespace) -> Lake:
    """The lake of the options, refused at once when it cannot work: a local root that is not
    a folder, or the aws profile with no credentials."""
    lake = Lake.from_environment(root=args.lake_root, profile=args.profile)
    if args.command not in STANDALONE_COMMANDS:
        root = local_lake_root(lake)
        if root is not None:
            check_lake_root(root)
        else:
            check_aws_credentials()
    return lake


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    lake = None
    try:
        with terminate_as_interrupt():
            lake = checked_lake(args)
            return args.handler(args, lake)
    except BrokenPipeError:
        # The reader of the output went away (`lake query ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except BaseException as error:
        failure = classify(error, local_lake_root(lake) if lake is not None else None)
        if failure is None:
            raise
        if failure.exit_code in INTERRUPTIONS:
            print(f"lake {args.command}: {failure.message}", file=sys.stderr)
        else:
            print(f"lake {args.command}: error: {failure.message}", file=sys.stderr)
        return failure.exit_code


if __name__ == "__main__":
    sys.exit(main())
