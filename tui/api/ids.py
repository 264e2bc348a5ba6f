"""Task ID validation: the only gate between user input and a URL path.

IDs are checked before any request so that a pasted slash, ``..`` or control
character can never change which endpoint we call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tui.api.errors import InvalidTaskIdError

MAX_ID_LENGTH = 128
_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_SPLIT_RE = re.compile(r"[\s,;]+")


def is_valid_task_id(task_id: str) -> bool:
    return _ID_RE.fullmatch(task_id) is not None


def validate_task_id(task_id: object) -> str:
    """Return ``task_id`` unchanged if it is safe, else raise with the reason."""
    if not isinstance(task_id, str):
        raise InvalidTaskIdError(f"task ID must be text, not {type(task_id).__name__}")
    if _ID_RE.fullmatch(task_id):
        return task_id
    raise InvalidTaskIdError(f"{_printable(task_id)}: {id_problem(task_id)}")


def id_problem(task_id: str) -> str:
    """Why ``task_id`` is refused, phrased for a person who pasted it."""
    if not task_id:
        return "empty"
    if len(task_id) > MAX_ID_LENGTH:
        return f"too long ({len(task_id)} characters, at most {MAX_ID_LENGTH})"
    bad = next(ch for ch in task_id if not (ch.isascii() and (ch.isalnum() or ch in "-_")))
    if bad == "/" or ".." in task_id:
        return "contains a path character ('/' or '..')"
    if not bad.isprintable():
        return f"contains a control character (U+{ord(bad):04X})"
    if bad.isspace():
        return "contains a space"
    return f"contains {bad!r}; only letters, digits, '-' and '_' are allowed"


def _printable(text: str, limit: int = 40) -> str:
    shown = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text[:limit])
    return shown + ("…" if len(text) > limit else "")


@dataclass
class ParsedIds:
    """The outcome of splitting pasted text into task IDs, in input order."""

    valid: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # already tracked
    repeated: list[str] = field(default_factory=list)  # more than once in this paste
    invalid: list[tuple[str, str]] = field(default_factory=list)


def parse_task_ids(text: str, known: frozenset[str] | set[str] = frozenset()) -> ParsedIds:
    """Split a pasted blob on spaces, commas, semicolons and newlines, then classify."""
    return classify_task_ids((t for t in _SPLIT_RE.split(text) if t), known)


def classify_task_ids(
    tokens: Iterable[str], known: frozenset[str] | set[str] = frozenset()
) -> ParsedIds:
    """Sort tokens into new, already ``known`` (tracked), repeated and invalid.

    Nothing is silently dropped, so the user can be told what happened to every
    token they pasted (or the server listed).
    """
    out = ParsedIds()
    seen: set[str] = set()
    for token in tokens:
        if not _ID_RE.fullmatch(token):
            out.invalid.append((_printable(token), id_problem(token)))
        elif token in known:
            if token not in out.duplicates:
                out.duplicates.append(token)
        elif token in seen:
            if token not in out.repeated:
                out.repeated.append(token)
        else:
            seen.add(token)
            out.valid.append(token)
    return out
