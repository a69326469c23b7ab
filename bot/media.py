"""The media store: photos and videos residents post with their reports, as files under
``settings.media_dir`` (default ``var/media``). Rows in ``ticket_media`` name them by a path
relative to that directory, so the directory can move with the deployment.

Only this module touches the files; callers pass bytes in and get a relative path back.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)

_EXTENSIONS = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
    "video/mp4": ".mp4", "video/quicktime": ".mov",
}


def extension(mime: str, name: str = "") -> str:
    if mime in _EXTENSIONS:
        return _EXTENSIONS[mime]
    suffix = Path(name).suffix.lower()
    # Only a short alphanumeric suffix from the sender's file name: never a path piece.
    return suffix if 1 < len(suffix) <= 6 and suffix[1:].isalnum() else ".bin"


def save(media_dir: Path, data: bytes, *, at: datetime, mime: str = "", name: str = "") -> str:
    """Write ``data`` and return its path relative to ``media_dir`` (month folders, content-hash
    names: the same photo posted twice is one file)."""
    digest = hashlib.sha256(data).hexdigest()[:32]
    relative = Path(f"{at:%Y}") / f"{at:%m}" / f"{digest}{extension(mime, name)}"
    target = Path(media_dir) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)  # a reader never sees half a file
    return relative.as_posix()


def resolve(media_dir: Path, relative: str) -> Path | None:
    """The file of a stored path, or None when the path would leave ``media_dir``."""
    base = Path(media_dir).resolve()
    target = (base / relative).resolve()
    return target if target.is_relative_to(base) else None


def delete(media_dir: Path, relative: str) -> bool:
    """Remove a stored file (content-addressed: callers check no other row uses it)."""
    target = resolve(media_dir, relative)
    if target is None or not target.exists():
        return False
    try:
        target.unlink()
    except OSError:
        log.warning("could not delete media file %s", relative)
        return False
    return True
