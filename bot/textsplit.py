"""Split long texts at WeChat's length limit, on line boundaries where possible."""
from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line breaks, else hard-cut."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single line longer than the limit: hard cut
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    if len(pieces) > 1:  # number the parts so readers know more follows
        total = len(pieces)
        pieces = [f"{p}\n（{i}/{total}）" if len(p) + 8 <= limit else p for i, p in enumerate(pieces, 1)]
    return pieces
