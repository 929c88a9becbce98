"""Progress bars for long work (rich), kept out of library code: commands pass callbacks."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn


def _total_bytes(paths: list[Path]) -> int:
    files = [p for path in paths for p in ([path] if path.is_file() else path.glob("*.csv"))]
    return sum(p.stat().st_size for p in files if p.exists())


@contextmanager
def byte_progress(console: Console, paths: list[Path]) -> Iterator:
    """A bar over the bytes of the files in `paths`; yields the callback (name, bytes) -> None."""
    with Progress(
        TextColumn("  {task.description}"), BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), TimeRemainingColumn(),
        console=console, transient=True,
    ) as progress:
        task = progress.add_task("copying", total=_total_bytes(paths))

        def advance(name: str, size: int) -> None:
            progress.update(task, advance=size, description=name)

        yield advance


def new_console(stderr: bool = False) -> Console:
    """A console for command output: the terminal's width, or 120 columns when the output
    goes to a file or a pipe (rich would squeeze tables into 80)."""
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=120)
    return console
