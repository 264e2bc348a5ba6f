"""The earlier task file, ``tasks.toml``: read once to import it into the
database (see :mod:`tui.services.store`), and by ``export`` when no database
exists yet. Writing stays for tests and tools that make such files; the app
no longer writes it. Nothing here imports Textual.
"""

from __future__ import annotations

import os
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from tui.core.atomic import atomic_write
from tui.domain.tracked import TrackedTask

FORMAT_VERSION = 1


class StoreError(Exception):
    """The data file could not be written; the message says why, for a notification."""


@dataclass
class LoadResult:
    tasks: list[TrackedTask]
    moved_aside: Path | None = None  # where a corrupt file (or a copy) went
    problem: str | None = None
    #: Set when writing would destroy data we could not read: saving must stay off.
    read_only: str | None = None


def read_toml(path: Path, read_only: bool = False) -> LoadResult:
    """The tasks in ``path``; a corrupt file is moved aside (unless ``read_only``)."""
    return TomlFile(path).load(read_only)


def _looks_cut(raw: bytes, doc: dict[str, object]) -> str | None:
    """Why a parsed file still looks truncated, or ``None``. Our writer (tomli-w)
    ends the file with a newline and writes each entry's keys in one order; a
    last entry missing a key that every other entry has was cut mid-way."""
    if raw and not raw.endswith(b"\n"):
        return "it does not end with a newline"
    if "tasks" not in doc:  # our writer always writes the list, if only "tasks = []"
        return "it has no task list"
    entries = doc["tasks"]
    dicts = [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
    if not dicts:
        return None
    *others, last = dicts
    expected = {"id", "added_at"}  # to_toml always writes both
    if others:
        expected |= set.intersection(*(set(e) for e in others))
    if missing := sorted(expected - set(last)):
        return f"its last entry has no {', '.join(missing)}"
    tasks = [e["task"] for e in others if isinstance(e.get("task"), dict)]
    if tasks and isinstance(last.get("task"), dict):
        task_keys = {"id"} | set.intersection(*(set(t) for t in tasks))
        if missing := sorted(task_keys - set(last["task"])):
            return f"its last task has no {', '.join(missing)}"
    return None


class TomlFile:
    """Reads and atomically writes a ``tasks.toml``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, read_only: bool = False) -> LoadResult:
        """Load the file; a corrupt one is renamed aside, never deleted or overwritten.

        ``read_only`` (export) reports problems but leaves every file as it is.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return LoadResult([])
        except OSError as exc:
            reason = f"cannot read {self.path}: {exc.strerror or exc}"
            return LoadResult([], problem=reason, read_only=reason)
        try:
            doc = tomllib.loads(raw.decode("utf-8"))
            entries = doc.get("tasks", [])
            if not isinstance(entries, list):
                raise ValueError("'tasks' is not a list")
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError) as exc:
            aside = None if read_only else self._move_aside()
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return LoadResult([], moved_aside=aside, problem=f"{self.path} was corrupt ({reason})")
        version = doc.get("version", FORMAT_VERSION)
        if isinstance(version, int) and version > FORMAT_VERSION:
            reason = (
                f"{self.path} was written by a newer musicmint-tui (format {version}); "
                "not saving, so it is not overwritten"
            )
            return LoadResult([], problem=reason, read_only=reason)
        tasks: list[TrackedTask] = []
        seen: set[str] = set()
        skipped = 0
        for entry in entries:
            tracked = TrackedTask.from_toml(entry) if isinstance(entry, dict) else None
            if tracked is None:
                skipped += 1
            elif tracked.id not in seen:
                seen.add(tracked.id)
                tasks.append(tracked)
        if skipped:
            # The next save would drop them for good: keep a copy of the original.
            copy = None if read_only else self._copy_aside(raw, "skipped")
            return LoadResult(
                tasks,
                moved_aside=copy,
                problem=f"{skipped} unreadable entr{'y' if skipped == 1 else 'ies'} in {self.path}",
            )
        if cut := _looks_cut(raw, doc):
            # Valid TOML can still be a cut file: a cut between two lines of the
            # last entry, or between entries, parses. The file itself is kept
            # (migration renames it to tasks.toml.migrated, never deletes it).
            return LoadResult(
                tasks, problem=f"{self.path} looks cut short ({cut}); {len(tasks)} task(s) read"
            )
        return LoadResult(tasks)

    def _copy_aside(self, raw: bytes, label: str) -> Path | None:
        target = self.path.with_name(f"{self.path.name}.{label}-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            self.write(raw, target)
        except StoreError:
            return None
        return target

    def _move_aside(self) -> Path | None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            os.replace(self.path, target)
        except OSError:
            return None
        return target

    @staticmethod
    def serialise(tasks: list[TrackedTask]) -> bytes:
        """Done on the caller's thread: the snapshot must not change while we write."""
        doc = {"version": FORMAT_VERSION, "tasks": [t.to_toml() for t in tasks]}
        return tomli_w.dumps(doc).encode("utf-8")

    def write(self, payload: bytes, path: Path | None = None) -> None:
        """Atomically replace the file with ``payload`` (see :mod:`tui.core.atomic`)."""
        target = path or self.path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, payload)
        except OSError as exc:
            raise StoreError(f"cannot save {target}: {exc.strerror or exc}") from exc

    def save(self, tasks: list[TrackedTask]) -> None:
        self.write(self.serialise(tasks))
