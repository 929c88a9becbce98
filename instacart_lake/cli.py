"""The `lake` command. Each subcommand lives in instacart_lake.commands.<name> and provides
HELP, add_arguments(parser) and run(args, lake) -> exit code."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from instacart_lake.context import Lake
from instacart_lake.errors import LakeError

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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        lake = Lake.from_environment(root=args.lake_root, profile=args.profile)
        return args.handler(args, lake)
    except LakeError as error:
        print(f"lake {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lake {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of the output went away (`lake query ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
