"""Progress of long work, shown by commands and ignored everywhere else.

Services and the pure core report progress through the small :class:`Progress`
protocol: ``stage`` starts a named step with an optional total, ``advance``
moves it on. They default to :data:`SILENT`, so tasks and tests pay nothing;
management commands pass :func:`bar`, which draws a rich progress bar on the
command's error stream (stdout stays for results, and ``--json -`` stays clean).

Pure: no Django imports, so the prediction and backtesting cores may take one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import IO, Any, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Column


class Progress(Protocol):
    def stage(self, description: str, total: float | None = None) -> None:
        """Start a new step (the previous one is complete); ``total`` None when its size is unknown."""

    def advance(self, amount: float = 1) -> None:
        """Move the current step on by ``amount`` units."""


class _Silent:
    def stage(self, description: str, total: float | None = None) -> None:
        pass

    def advance(self, amount: float = 1) -> None:
        pass


SILENT: Progress = _Silent()


class _Bar:
    """One live bar, for the current stage; each finished stage is printed above it once, as a line.

    Long runs have dozens of stages: kept live, they would outgrow the
    terminal, and rich would hide the current one.
    """

    def __init__(self, progress: RichProgress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def stage(self, description: str, total: float | None = None) -> None:
        self._finish()
        self._task = self._progress.add_task(description, total=total)

    def advance(self, amount: float = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)

    def _finish(self) -> None:
        if self._task is None:
            return
        task = next(t for t in self._progress.tasks if t.id == self._task)
        done = task.total if task.total is not None else max(task.completed, 1)
        self._progress.update(self._task, total=done, completed=done)
        self._progress.console.print(self._progress.make_tasks_table([task]))
        self._progress.remove_task(self._task)
        self._task = None


@contextmanager
def bar(stream: IO[str], *, enabled: bool = True) -> Iterator[Progress]:
    """Progress bars drawn on ``stream`` for the duration of the block (silent when not ``enabled``).

    On a terminal the bars redraw in place; elsewhere (CI logs, pipes) rich
    prints each finished stage once, so logs stay short.
    """
    if not enabled:
        yield SILENT
        return
    # Off a terminal (CI logs, pipes) rich cannot ask for a width: give the bars room to be read.
    console = Console(file=stream, stderr=False, highlight=False, width=None if stream.isatty() else 110)
    # The description gives way (cut short with an ellipsis) before the counts and times do.
    columns = (
        TextColumn("[progress.description]{task.description}", table_column=Column(ratio=3, no_wrap=True)),
        BarColumn(bar_width=None, table_column=Column(ratio=1)),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with RichProgress(*columns, console=console, transient=False, refresh_per_second=4, expand=True) as progress:
        reporter = _Bar(progress)
        yield reporter  # a stage that fails stays where it stopped, so the bar shows how far it got
        reporter._finish()


def command_bar(options: Mapping[str, Any]) -> AbstractContextManager[Progress]:
    """The bar of a management command, from its ``options``: drawn on its error stream, none at verbosity 0.

    That stream is the ``stderr`` given to call_command, else the process's
    (the command's own ``self.stderr`` wrapper appends a newline to every
    write, which would break the bar's redraws).
    """
    return bar(options.get("stderr") or sys.stderr, enabled=options.get("verbosity", 1) > 0)
