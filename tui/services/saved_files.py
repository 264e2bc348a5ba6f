"""What a saved clip's files are called, and whether downloaded bytes are what
they claim to be. No network here: :mod:`tui.services.downloads` streams the
bytes and asks this module for names and checks.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import unicodedata
from pathlib import Path


class NameTaken(Exception):
    """Every candidate name belongs to another clip."""


MAX_NAME = 80  # characters of title
#: Bytes of title: file systems limit names to 255 bytes, and a CJK or emoji
#: character takes 3-4, so characters alone do not bound the name.
MAX_NAME_BYTES = 120
#: Magic numbers of what we accept, by kind.
AUDIO_MAGIC = (b"ID3",)  # or an MPEG frame sync, checked in looks_like
IMAGE_MAGIC = {b"\xff\xd8\xff": ".jpg", b"\x89PNG\r\n\x1a\n": ".png", b"RIFF": ".webp"}


def safe_name(title: str | None, clip_id: str | None) -> str:
    """A file name stem from untrusted text: no separators, no control or
    reserved characters, no leading dots, bounded length, never empty."""
    text = unicodedata.normalize("NFC", title or "untitled")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = re.sub(r'[\\/:*?"<>|\x00]+', " ", text)
    text = re.sub(r"\s+", " ", text).strip(" .")
    text = text[:MAX_NAME]
    while len(text.encode("utf-8")) > MAX_NAME_BYTES:
        text = text[:-1]
    text = text.rstrip(" .") or "untitled"
    clip = re.sub(r"[^A-Za-z0-9_-]+", "", clip_id or "")[:40] or "clip"
    return f"{text} [{clip}]"


def free_target(folder: Path, stem: str, suffix: str, owner: tuple[str, str]) -> Path:
    """``stem+suffix``, unless a file of another clip already has that name:
    then ``stem (2)+suffix`` and so on. ``owner`` is (task ID, clip key)."""
    for n in range(1, 1000):
        candidate = folder / (f"{stem}{suffix}" if n == 1 else f"{stem} ({n}){suffix}")
        if not candidate.exists() or belongs_to(candidate, owner):
            return candidate
    raise NameTaken(f"too many files named {stem!r} in {folder}")


def belongs_to(path: Path, owner: tuple[str, str]) -> bool:
    """Does an existing file come from this clip of this task (by its sidecar)?
    Then saving again reuses the name. Sidecars from before clip keys name only
    ``clip_id``; a null one never matches."""
    sidecar = path.with_suffix(".json") if path.suffix != ".json" else path
    try:
        meta = json.loads(sidecar.read_text())
        key = meta.get("clip_key") or meta.get("clip_id")
        return bool(key) and (meta.get("task_id"), key) == owner
    except (OSError, ValueError, AttributeError):
        return False


def looks_like(head: bytes, kind: str) -> str | None:
    """The file extension the bytes justify, or None when they are not that kind."""
    if kind == "audio":
        frame_sync = len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
        return ".mp3" if head.startswith(AUDIO_MAGIC) or frame_sync else None
    for magic, ext in IMAGE_MAGIC.items():
        if head.startswith(magic) and (ext != ".webp" or head[8:12] == b"WEBP"):
            return ext
    return None


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


#: Saved files get the permissions the user's umask gives new files (mkstemp
#: makes them 0600, which media servers and other users could not read).
FILE_MODE = 0o666 & ~_umask()


def make_readable(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.chmod(path, FILE_MODE)
