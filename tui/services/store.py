"""The tracked task list and the last known state of each task, on disk.

The file is TOML owned by the app (``<user_data_dir>/musicmint-tui/tasks.toml``)
and is always replaced whole: written to a temp file in the same folder,
fsynced, then ``os.replace``d, so a crash at any instant leaves either the old
or the new file, never a torn one. Nothing here imports Textual.
"""

from __future__ import annotations

import os
import threading
import time
import tomllib
from collections.abc import Callable
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


class TaskStore:
    """Reads and atomically writes ``tasks.toml``.

    Saving is ordered and coalesced: :meth:`save_soon` hands a snapshot to one
    background writer that always writes the newest snapshot it has and drops
    older ones; :meth:`save` writes at once (on quit). A snapshot handed over
    earlier never lands after a later one, whichever path wrote it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # guards the fields below
        self._write_lock = threading.Lock()  # one writer of the file at a time
        self._seq = 0  # last snapshot handed over
        self._written = 0  # last snapshot on disk
        self._pending: tuple[int, list[TrackedTask]] | None = None
        self._writer: threading.Thread | None = None
        self._on_error: Callable[[StoreError], None] = lambda exc: None

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
        """Write ``tasks`` now, on this thread; raises :class:`StoreError`."""
        with self._lock:
            self._seq += 1
            seq, self._pending = self._seq, None  # older than this one: never written
        self._write_snapshot(seq, tasks)

    def save_soon(self, tasks: list[TrackedTask], on_error: Callable[[StoreError], None]) -> None:
        """Write ``tasks`` on the background writer (TOML encoding of thousands
        of tasks takes long enough to stall a UI). ``on_error`` is called on the
        writer's thread."""
        with self._lock:
            self._seq += 1
            self._pending = (self._seq, tasks)
            self._on_error = on_error
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._drain, name="task-store-writer", daemon=True
                )
                self._writer.start()

    def wait_saved(self, timeout: float | None = None) -> None:
        """Block until the background writer is idle (quit and tests)."""
        writer = self._writer
        if writer is not None:
            writer.join(timeout)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if self._pending is None:
                    self._writer = None
                    return
                (seq, tasks), self._pending = self._pending, None
                on_error = self._on_error
            try:
                self._write_snapshot(seq, tasks)
            except StoreError as exc:
                on_error(exc)

    def _write_snapshot(self, seq: int, tasks: list[TrackedTask]) -> None:
        payload = self.serialise(tasks)
        with self._write_lock:
            if seq <= self._written:
                return  # a newer snapshot is already on disk
            self.write(payload)
            self._written = seq
