"""One rich progress bar on stderr for the data commands (a no-op when turned off)."""

from __future__ import annotations

from contextlib import contextmanager


class _Bar:
    def __init__(self, progress, task):
        self.progress, self.task = progress, task

    def advance(self, steps: int = 1, status: str | None = None) -> None:
        if self.progress is None:
            return
        fields = {} if status is None else {"status": status}
        self.progress.update(self.task, advance=steps, **fields)


@contextmanager
def progress_bar(enabled: bool, label: str, total: int | None, done: int = 0):
    """``with progress_bar(True, "convert", 100) as bar: bar.advance(status="kept 3")``."""
    if not enabled:
        yield _Bar(None, None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[status]}"),
                        console=Console(stderr=True))
    task = progress.add_task(label, total=total, completed=done, status="")
    progress.start()
    try:
        yield _Bar(progress, task)
    finally:
        progress.stop()
