"""What the New track dialog remembers: the draft being written, and the
requests sent.

``draft.json`` (in the data folder, next to the task database) holds the
dialog's content as typed until a submit succeeds: escape, a crash, a killed
process or a failed submit brings it back the next time the dialog opens.
``history.json`` holds the last :data:`HISTORY_SIZE` requests the server
accepted, newest first, to recall into the dialog.

Both are written whole and atomically (temp file, fsync, rename; mode 0600),
so a crash mid-write leaves the old file, never half of one. Reading is
forgiving: a missing, damaged or oversized file is an empty draft or history
and a warning in the log, never a dialog that fails to open.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.api.generate import GenerateRequest
from tui.core.atomic import atomic_write
from tui.core.logs import log
from tui.domain.compose_form import ComposeForm

DRAFT_FILE = "draft.json"
HISTORY_FILE = "history.json"
HISTORY_SIZE = 50
#: Larger files are not ours: a draft's texts are bounded well below this.
MAX_BYTES = 2 * 1024 * 1024


def _read_json(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("%s not read (%s)", path, exc.strerror or exc)
        return None
    if len(raw) > MAX_BYTES:
        log.warning("%s ignored: larger than %d bytes", path, MAX_BYTES)
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        log.warning("%s ignored: not JSON (%s)", path, exc)
        return None


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1).encode())


#: Drafts set aside (by a recall or a prefilled dialog) kept at most.
ASIDE_SIZE = 10


@dataclass(frozen=True)
class Aside:
    """A draft that a recall or a prefilled dialog replaced: kept, to recall."""

    at: float
    form: ComposeForm


@dataclass(frozen=True)
class Pending:
    """A send that got no usable answer: the server may have made a task.
    Kept with the draft, so closing the dialog does not forget the risk."""

    at: float
    request: GenerateRequest


@dataclass(frozen=True)
class Drafts:
    form: ComposeForm | None = None  # the draft being written
    aside: tuple[Aside, ...] = ()  # newest first
    pending: Pending | None = None


class DraftStore:
    """The draft, and the drafts set aside. Writes may raise ``OSError``;
    the dialog says so and keeps what is on screen.

    The dialog saves from a worker thread while the user types; each save
    writes the newest form given so far, under a lock, so a slow write never
    lands after (and over) a newer one."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / DRAFT_FILE
        self._lock = threading.Lock()
        self._latest: Drafts | None = None

    def load(self) -> Drafts:
        data = _read_json(self.path)
        if not isinstance(data, dict):
            return Drafts()
        form = data.get("form")
        current = ComposeForm.from_json(form) if isinstance(form, dict) else None
        aside = []
        raw_aside = data.get("aside")
        for item in raw_aside[:ASIDE_SIZE] if isinstance(raw_aside, list) else ():
            if isinstance(item, dict) and isinstance(item.get("form"), dict):
                kept = ComposeForm.from_json(item["form"])
                if not kept.empty:
                    aside.append(Aside(_finite(item.get("at")), kept))
        pending = None
        raw_pending = data.get("pending")
        if isinstance(raw_pending, dict) and isinstance(raw_pending.get("request"), dict):
            pending = Pending(
                _finite(raw_pending.get("at")), GenerateRequest.from_json(raw_pending["request"])
            )
        form = None if current is None or current.empty else current
        return Drafts(form, tuple(aside), pending)

    def save(self, drafts: Drafts) -> None:
        """Write ``drafts`` (or, when called from several threads, the newest given)."""
        self._latest = drafts
        with self._lock:
            latest = self._latest
            if latest is None:
                return  # a later call wrote it already
            self._latest = None
            if latest.form is None and not latest.aside and latest.pending is None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
                return
            _write_json(
                self.path,
                {
                    "form": latest.form.to_json() if latest.form else None,
                    "aside": [{"at": a.at, "form": a.form.to_json()} for a in latest.aside],
                    "pending": (
                        {"at": latest.pending.at, "request": latest.pending.request.to_json()}
                        if latest.pending
                        else None
                    ),
                },
            )


def set_aside(aside: tuple[Aside, ...], form: ComposeForm | None, at: float) -> tuple[Aside, ...]:
    """The drafts set aside (newest first) with ``form`` kept among them."""
    if form is None or form.empty or any(a.form == form for a in aside):
        return aside
    return (Aside(at, form), *aside)[:ASIDE_SIZE]


@dataclass(frozen=True)
class Sent:
    """One accepted request: when, which task it made, and the request."""

    at: float
    task_id: str
    request: GenerateRequest


def _finite(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    value = float(value) if abs(value) < 1e18 else 0.0
    return value if math.isfinite(value) else 0.0


class History:
    """The last :data:`HISTORY_SIZE` accepted requests, newest first."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / HISTORY_FILE

    def load(self) -> list[Sent]:
        data = _read_json(self.path)
        if not isinstance(data, list):
            return []
        entries = []
        for item in data[:HISTORY_SIZE]:
            if not isinstance(item, dict) or not isinstance(item.get("request"), dict):
                continue
            at, task_id = item.get("at"), item.get("task_id")
            entries.append(
                Sent(
                    at=_finite(at),
                    task_id=task_id[:200] if isinstance(task_id, str) else "",
                    request=GenerateRequest.from_json(item["request"]),
                )
            )
        return entries

    def add(self, sent: Sent) -> None:
        entries = [sent, *self.load()][:HISTORY_SIZE]
        _write_json(
            self.path,
            [{"at": e.at, "task_id": e.task_id, "request": e.request.to_json()} for e in entries],
        )
