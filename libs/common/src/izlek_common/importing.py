"""What every service's import commands share: who the author is, and a progress bar on the console."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from izlek_common.domain.stamp import Author

ProgressCallback = Callable[[int, int, str], None]
"""``(done, total, what)``, called after each step of an import."""


def cli_author(subject: str | None, command: str) -> Author:
    """The author of an import run from the command line: the given subject, or the OS user."""
    return Author(subject=subject or f"cli:{getpass.getuser()}", role="coordinator", organisation_id=None,
                  name=command)


@contextmanager
def progress_bar(console: Console, description: str) -> Iterator[ProgressCallback]:
    """A progress bar for an import; yields the callback the importer reports its steps to."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[what]}"), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task(description, total=None, what="")

        def advance(done: int, total: int, what: str) -> None:
            progress.update(task, completed=done, total=total, what=what)

        yield advance
