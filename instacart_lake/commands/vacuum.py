"""`lake vacuum`: remove what killed runs left in the lake, and what Delta no longer reads.

Under the lake lock (no run writes meanwhile): the raw zone's staging files, every `_temporary`
folder, and in every Delta table the data files that no commit references; then Delta VACUUM
on every table with the retention (files that no version younger than it reads). One line per
location.
"""

from __future__ import annotations

import argparse
import datetime as dt

from instacart_lake import lake_lock, storage
from instacart_lake.commands.options import add_wait_option
from instacart_lake.config import ZONES
from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.job_args import new_job_run_id
from instacart_lake.leftovers import (
    Removed,
    remove_orphaned_files,
    remove_staged_files,
    remove_temporary_folders,
    table_folders,
)

HELP = ("remove what killed runs left (staging files, _temporary folders, data files no commit references) "
        "and run Delta VACUUM on every table")
DEFAULT_RETAIN_HOURS = 168.0
"""Delta's default retention (7 days): time travel to any version of the last week keeps working."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--retain-hours", type=float, default=DEFAULT_RETAIN_HOURS, metavar="H",
                        help=f"Delta VACUUM keeps the files a version of the last H hours reads "
                             f"(default {DEFAULT_RETAIN_HOURS:g}, Delta's 7 days)")
    parser.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    add_wait_option(parser)


def run(args: argparse.Namespace, lake: Lake) -> int:
    if args.retain_hours < 0:
        raise LakeError(f"--retain-hours {args.retain_hours:g}: a retention cannot be negative")
    retain = dt.timedelta(hours=args.retain_hours)
    verb = "would remove" if args.dry_run else "removed"
    with lake_lock.hold(lake, new_job_run_id(), "lake vacuum", args.wait, on_note=lake_lock.note_on_stderr):
        started = dt.datetime.now(dt.timezone.utc)
        locations = lake.locations
        staged = remove_staged_files(locations.raw_staging_uri(), started, args.dry_run)
        print(f"{staged.location}: {verb} {staged.summary()} staged")
        tables = [uri for zone in ZONES for uri in table_folders(locations.zone_uri(zone))]
        for zone in ZONES:
            temporary = remove_temporary_folders(locations.zone_uri(zone), started, args.dry_run)
            print(f"{temporary.location}: {verb} {temporary.summary()} in _temporary folders")
        if not tables:
            return 0
        from instacart_lake.delta import DeltaTableIO
        from instacart_lake.runtime import local_spark

        table_io = DeltaTableIO(local_spark(lake.config, "lake-vacuum"))
        for uri in tables:
            orphans = remove_orphaned_files(uri, started, args.dry_run)
            vacuumed = _vacuum(table_io, uri, retain, args.dry_run)
            print(f"{uri}: {verb} {orphans.summary()} that no commit references, "
                  f"{vacuumed.summary()} older than {args.retain_hours:g} h that no version reads")
    return 0


def _vacuum(table_io, uri: str, retain: dt.timedelta, dry_run: bool) -> Removed:
    """Delta VACUUM on one table; the files it removes (or would) and their bytes."""
    if not table_io.exists(uri):
        return Removed(uri, 0, 0)
    doomed = table_io.vacuum(uri, retain, dry_run=True)
    sizes = [_size(path) for path in doomed]
    if doomed and not dry_run:
        table_io.vacuum(uri, retain)
    return Removed(uri, len(doomed), sum(sizes))


def _size(path: str) -> int:
    """The size of a file that VACUUM names (a file: or s3:// URI)."""
    loc = storage.resolve(path)
    return loc.filesystem.get_file_info(loc.path).size or 0
