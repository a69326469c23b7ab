"""Progress of long command-line work: a bar on a terminal, silence when the output is piped
or logged (a bar there is just noise), and one summary line at the end either way.

    with progress(len(rows), "正在导入12345工单", unit="条") as bar:
        for chunk in chunks:
            ...
            bar.update(len(chunk))
        bar.summary(f"导入完成：新增{created}条")

The wording follows the dashboard's roster import ("正在导入…… done / total", then "导入完成：…").
"""
from __future__ import annotations

import sys
import time
from typing import IO, Any, Iterable, Iterator, TypeVar

from tqdm import tqdm

T = TypeVar("T")

BAR_FORMAT = "{desc}：{bar} {n_fmt}/{total_fmt}{unit}（{elapsed}，还需约{remaining}）"


class Progress:
    """One piece of long work. ``update`` moves the bar; ``summary`` prints the closing line."""

    def __init__(self, total: int | None, desc: str, *, unit: str = "项", file: IO[str] | None = None,
                 summary_file: IO[str] | None = None) -> None:
        self.file = file if file is not None else sys.stderr
        self.summary_file = summary_file if summary_file is not None else sys.stdout
        self.started = time.monotonic()
        self.done = 0
        self.total = total
        self._summary: str | None = None
        # tqdm's own check (disable=None) would still draw on a pipe when the stream has no
        # isatty; ours is explicit: only an interactive terminal gets a bar.
        self._bar = tqdm(total=total, desc=desc, unit=unit, file=self.file, disable=not _is_terminal(self.file),
                         bar_format=BAR_FORMAT if total else "{desc}：{n_fmt}{unit}（{elapsed}）",
                         dynamic_ncols=True, leave=True, mininterval=0.2)  # the final count stays on screen

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def update(self, n: int = 1) -> None:
        self.done += n
        self._bar.update(n)

    def set_total(self, total: int) -> None:
        """The amount became known only after the work started (a file was read)."""
        self.total = total
        self._bar.total = total
        self._bar.refresh()

    def summary(self, line: str) -> None:
        """The line printed when the work ends (after the bar is gone)."""
        self._summary = line

    def close(self) -> None:
        self._bar.close()
        if self._summary is not None:
            print(self._summary, file=self.summary_file, flush=True)
            self._summary = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(total: int | None, desc: str, *, unit: str = "项", file: IO[str] | None = None,
             summary_file: IO[str] | None = None) -> Progress:
    return Progress(total, desc, unit=unit, file=file, summary_file=summary_file)


def track(items: Iterable[T], bar: Progress | None) -> Iterator[T]:
    """Iterate ``items``, moving ``bar`` (if any) by one per item."""
    for item in items:
        yield item
        if bar is not None:
            bar.update()


def chunked(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False
