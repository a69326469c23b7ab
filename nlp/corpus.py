"""Reading the JSON Lines corpus: {"text","is_issue","category","urgent","location",...} per line."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable


@dataclass(frozen=True)
class Example:
    text: str
    is_issue: bool
    category: str
    urgent: bool
    location: str | None = None
    source: str = "chat"
    dup_group: str | None = None
    kind: str | None = None
    weight: float = 1.0
    origin: str = ""
    urgent_only: bool = False  # teaches the urgent models only (see nlp/data/README.md)

    @classmethod
    def from_dict(cls, row: dict[str, Any], *, weight: float = 1.0, origin: str = "") -> "Example":
        text = row.get("text")
        if not isinstance(text, str):
            raise ValueError("缺少 text 字段")
        is_issue = bool(row.get("is_issue", False))
        category = str(row.get("category") or "none") if is_issue else "none"
        if is_issue and category == "none":
            category = "other"
        return cls(
            text=text,
            is_issue=is_issue,
            category=category,
            urgent=bool(row.get("urgent", False)) and is_issue,
            location=row.get("location") or None,
            source=str(row.get("source") or "chat"),
            dup_group=row.get("dup_group") or None,
            kind=row.get("kind") or None,
            weight=weight,
            origin=origin,
            urgent_only=bool(row.get("urgent_only", False)),
        )


def read_jsonl(path: Path | str, *, weight: float = 1.0) -> list[Example]:
    """Examples of one file; malformed lines are skipped with a note on stderr."""
    import sys

    out: list[Example] = []
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(Example.from_dict(json.loads(line), weight=weight, origin=f"{path.name}:{n}"))
            except (ValueError, TypeError, AttributeError) as exc:
                print(f"跳过 {path.name}:{n}: {exc}", file=sys.stderr)
    return out


def read_dir(directory: Path | str, *, weight: float = 1.0) -> list[Example]:
    """All *.jsonl files of a directory, in name order."""
    directory = Path(directory)
    out: list[Example] = []
    if directory.is_dir():
        for path in sorted(directory.glob("*.jsonl")):
            out.extend(read_jsonl(path, weight=weight))
    return out


def from_dicts(rows: Iterable[dict[str, Any]], *, weight: float = 1.0, origin: str = "extra") -> list[Example]:
    return [Example.from_dict(r, weight=weight, origin=origin) for r in rows]
