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
from typing import IO, Any, Iterator, TypeVar

from tqdm import tqdm

T = TypeVar("T")

BAR_FORMAT = "{desc}：{bar} {n_fmt}/{total_fmt}{unit}（{elapsed}，还需约{remaining}）"


class Progress:
    """One piece of long work. ``update`` moves the bar; ``summary`` prints the closing line."""

    def __init__(self, total: int | None, desc: str, *, unit: str = "项", file: IO[str] | None = None,
                 summary_file: IO[str] | None = None) -> None:
        self.file = file if file is not None else sys.stderr
        self.summary_file = summary_file if summary_file is not None else sys.stdout
        self._summary: str | None = None
        # tqdm's own check (disable=None) would still draw on a pipe when the stream has no
        # isatty; ours is explicit: only an interactive terminal gets a bar.
        self._bar = tqdm(total=total, desc=desc, unit=unit, file=self.file, disable=not _is_terminal(self.file),
                         bar_format=BAR_FORMAT if total else "{desc}：{n_fmt}{unit}（{elapsed}）",
                         dynamic_ncols=True, leave=True, mininterval=0.2)  # the final count stays on screen

    def update(self, n: int = 1) -> None:
        self._bar.update(n)

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


def chunked(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False
