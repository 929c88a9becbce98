"""Command-line values shared by the subcommands."""

from __future__ import annotations

import argparse
import math

from instacart_lake.errors import LakeError


def name_values(pairs: list[str], option: str) -> dict[str, str]:
    """`NAME=VALUE` arguments of a repeatable option as a mapping (the last of a name wins)."""
    values = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise LakeError(f"{option} {pair!r}: expected NAME=VALUE")
        values[name.strip()] = value
    return values


def add_wait_option(parser: argparse.ArgumentParser) -> None:
    """`--wait [SECONDS]`: wait for the lake lock (instacart_lake.lake_lock) instead of being
    refused at once; without SECONDS, as long as it takes."""
    parser.add_argument("--wait", nargs="?", const=math.inf, default=None, type=_seconds, metavar="SECONDS",
                        help="if another run or ingest holds the lake, wait for it (at most SECONDS) "
                             "instead of exiting with code 75")


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds < math.inf:
        raise argparse.ArgumentTypeError(f"expected seconds (0 or more), not {text!r}: without SECONDS, give "
                                         "--wait after the command's other arguments")
    return seconds
