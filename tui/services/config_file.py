"""Writing settings into the user's config file (setup screen, ``login``, ``logout``).

The file is the user's: nothing in it may be lost by accident.

* A file that cannot be read or parsed is never overwritten: the caller gets a
  :class:`ConfigFileError` saying why, and the file stays as it is.
* Changes are first made *in place*, line by line: ``api_key = "…"`` under
  ``[api]`` is replaced (a comment after it stays), added under its section
  header, or the section is appended; a removed key loses its line. The edited
  text is parsed again and must hold exactly the intended settings, or the
  edit is abandoned.
* Only when no such edit works (a dotted key, an inline table, a multi-line
  string...) is the whole file rewritten with tomli-w, which keeps every key
  and value but not comments. If the file has comments, that rewrite needs
  ``drop_comments=True``; otherwise :class:`CommentsWouldBeLost` asks first.
  Comments are found by a heuristic: a ``#`` outside a single-line quoted
  string. A ``#`` inside a multi-line string counts too, which only makes us
  ask when we did not have to.
* Every result is checked with the same checkers as ``load_config``, written
  atomically (:func:`tui.core.atomic.atomic_write`) with mode 0600, in a folder
  created 0700. A symlinked config file is written through to its target.

Errors never contain the API key. Nothing here imports Textual.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from tui.core.atomic import atomic_write
from tui.core.config import ConfigError, check_setting, validate_document

#: ``changes[section][key]``: the new value, or ``None`` to remove the key.
Changes = Mapping[str, Mapping[str, Any]]


class ConfigFileError(Exception):
    """The file was not written; the message (one line) says why."""


class CommentsWouldBeLost(ConfigFileError):
    """Saving needs a full rewrite that would remove the file's comments."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path} has comments that saving would remove (the file would be rewritten)"
        )
        self.path = path


@dataclass(frozen=True)
class SaveResult:
    path: Path
    #: "created", "edited" (in place, comments kept), "rewritten" or "unchanged".
    how: str


def save_settings(
    path: Path, changes: Changes, *, drop_comments: bool = False, check_all: bool = True
) -> SaveResult:
    """Merge ``changes`` into the config file at ``path`` (see the module docstring).
    ``check_all``: the file's other settings must be valid too (not for a removal)."""
    target = _real_target(path)
    text = _read(target)
    try:
        doc = tomllib.loads(text) if text is not None else {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path}: not valid TOML ({exc}); not changed") from None
    try:
        if check_all:
            validate_document(doc, path)
        for section, keys in changes.items():
            for key, value in keys.items():
                if value is not None:
                    check_setting(section, key, value, f"[{section}] {key}")
    except ConfigError as exc:
        raise ConfigFileError(f"{exc}; not changed") from None

    wanted = _merged(doc, changes)
    if wanted == doc and text is not None:
        return SaveResult(path, "unchanged")
    if text is None:
        payload, how = tomli_w.dumps(wanted), "created"
    elif (edited := _edit_in_place(text, changes)) is not None and _parses_to(edited, wanted):
        payload, how = edited, "edited"
    else:
        if has_comments(text) and not drop_comments:
            raise CommentsWouldBeLost(path)
        payload, how = tomli_w.dumps(wanted), "rewritten"
    _write(target, payload.encode("utf-8"))
    return SaveResult(path, how)


def remove_settings(
    path: Path, names: Mapping[str, list[str]], *, drop_comments: bool = False
) -> SaveResult:
    """Remove ``names[section]`` keys (``logout``); a missing file stays missing.
    An unrelated bad value does not stop it: removing a key is a safety step."""
    if _read(_real_target(path)) is None:
        return SaveResult(path, "unchanged")
    changes = {s: dict.fromkeys(keys) for s, keys in names.items()}
    return save_settings(path, changes, drop_comments=drop_comments, check_all=False)


def has_comments(text: str) -> bool:
    """Whether ``text`` has a ``#`` outside a single-line quoted string (a heuristic)."""
    return any(_comment_start(line) is not None for line in text.splitlines())


# -- helpers ---------------------------------------------------------------------------


def _real_target(path: Path) -> Path:
    """The file to replace: a symlink's target, so the link itself survives."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _read(path: Path) -> str | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read: {exc.strerror or exc}; not changed") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigFileError(f"{path}: not UTF-8 text; not changed") from None


def _write(path: Path, payload: bytes) -> None:
    try:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(path, payload)  # the temp file is made 0600 (mkstemp)
        os.chmod(path, 0o600)
    except OSError as exc:
        raise ConfigFileError(f"cannot save {path}: {exc.strerror or exc}") from None


def _merged(doc: Mapping[str, Any], changes: Changes) -> dict[str, Any]:
    out = {section: dict(table) for section, table in doc.items()}
    for section, keys in changes.items():
        for key, value in keys.items():
            if value is None:
                if key in out.get(section, {}):
                    del out[section][key]
            else:
                out.setdefault(section, {})[key] = value
    return out


def _parses_to(text: str, wanted: Mapping[str, Any]) -> bool:
    try:
        return tomllib.loads(text) == wanted
    except tomllib.TOMLDecodeError:
        return False


def _comment_start(line: str) -> int | None:
    """Where a ``#`` comment starts in ``line``, ignoring ones inside quotes."""
    quote: str | None = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote is None:
            if ch == "#":
                return i
            if ch in "\"'":
                quote = ch
        elif ch == "\\" and quote == '"':
            i += 1  # skip the escaped character
        elif ch == quote:
            quote = None
        i += 1
    return None


_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]\s*(#.*)?$")
_OTHER_HEADER = re.compile(r"^\s*\[")


def _key_line(key: str) -> re.Pattern[str]:
    return re.compile(rf"""^(\s*)(?:{key}|"{key}"|'{key}')(\s*=\s*)(.*)$""")


def _formatted(value: Any) -> str:
    """``value`` as TOML, as tomli-w writes it."""
    return tomli_w.dumps({"v": value}).strip()[len("v = ") :]


def _edit_in_place(text: str, changes: Changes) -> str | None:
    """``text`` with each change made on its own line; ``None`` when unsure how.
    The caller checks the result parses to the intended settings."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    for section, keys in changes.items():
        for key, value in keys.items():
            lines = _edit_one(lines, section, key, value)
    return "".join(lines)


def _sections(lines: list[str]) -> list[str | None]:
    """The table each line belongs to (``""`` before any header, ``None`` in others)."""
    current: str | None = ""
    out: list[str | None] = []
    for line in lines:
        if match := _HEADER.match(line):
            current = match.group(1)
        elif _OTHER_HEADER.match(line):
            current = None
        out.append(current)
    return out


def _edit_one(lines: list[str], section: str, key: str, value: Any) -> list[str]:
    owners = _sections(lines)
    pattern = _key_line(key)
    for i, line in enumerate(lines):
        if owners[i] != section or _HEADER.match(line):
            continue
        if match := pattern.match(line.rstrip("\r\n")):
            if value is None:
                return lines[:i] + lines[i + 1 :]
            rest = match.group(3)
            hash_at = _comment_start(rest)
            comment = "  " + rest[hash_at:].strip() if hash_at is not None else ""
            new = f"{match.group(1)}{key}{match.group(2)}{_formatted(value)}{comment}\n"
            return [*lines[:i], new, *lines[i + 1 :]]
    if value is None:
        return lines
    new = f"{key} = {_formatted(value)}\n"
    for i, line in enumerate(lines):
        if (match := _HEADER.match(line)) and match.group(1) == section:
            return [*lines[: i + 1], new, *lines[i + 1 :]]
    gap = ["\n"] if lines and lines[-1].strip() else []
    return [*lines, *gap, f"[{section}]\n", new]
