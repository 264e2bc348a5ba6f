"""A tracked task: what we asked for and what we last heard, as one record.

The dashboard, the store and export all speak in :class:`TrackedTask`; it
knows how to turn itself into the stored form and back, and nothing about
files, HTTP or Textual.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tui.api.generate import GenerateRequest
from tui.api.ids import is_valid_task_id
from tui.api.models import Clip, Task, as_float, as_str

_INT64 = 2**63 - 1

#: A pseudo-status for tasks the server said it does not know.
NOT_FOUND = "not found"
#: Statuses of a task the server is still working on.
WORKING = ("queuing", "processing")
#: What the screen says (instead of "pending") for a task we asked the server
#: to generate and whose status it has not answered yet (:attr:`TrackedTask.submitted`).
SUBMITTED = "submitted"
#: Longest :attr:`TrackedTask.request_label`, in characters.
LABEL_MAX = 60
#: A lyrics section line such as ``[Verse]`` or ``[Chorus 2]``: not what a song is about.
_SECTION = re.compile(r"^\s*\[[^\]]*\]\s*$")


def request_body(value: Any) -> dict[str, Any] | None:
    """A stored or handed-over request as the body it would be sent as:
    through :meth:`GenerateRequest.from_json` (wrong types dropped, texts
    bounded). Not a JSON object, or nothing usable in it: ``None``."""
    if not isinstance(value, dict):
        return None
    return GenerateRequest.from_json(value).to_json() or None


def request_text(request: dict[str, Any] | None) -> str | None:
    """A request as compact JSON, ASCII only (every control and non-ASCII
    character escaped): how it is stored, and exported in one CSV cell."""
    return None if request is None else json.dumps(request, separators=(",", ":"))


def find_clip(records: Iterable[TrackedTask], clip_id: str) -> Clip | None:
    """The clip ``clip_id`` among ``records``' results (the first, should a
    server repeat an ID), or ``None``."""
    for record in records:
        for clip in record.task.results if record.task else ():
            if clip.id == clip_id:
                return clip
    return None


def _bounded(line: str) -> str:
    line = " ".join(line.split())
    return line if len(line) <= LABEL_MAX else line[: LABEL_MAX - 1].rstrip() + "…"


def label_of_request(request: GenerateRequest) -> str | None:
    """A short name for what ``request`` asks for: its title, else the first
    line that says something of the description, the lyrics (``[Verse]``-style
    section lines skipped) or the tags; at most :data:`LABEL_MAX` characters,
    on one line. Not cleaned of control characters: that is the screen's job."""
    if request.title and request.title.strip():
        return _bounded(request.title)
    for text in (request.gpt_description_prompt, request.prompt, request.tags):
        for line in (text or "").splitlines():
            if line.strip() and not _SECTION.match(line):
                return _bounded(line)
    return None


def clip_keys(clips: Sequence[Clip]) -> list[str]:
    """How each clip of a task is told apart: its ID when that is a string no
    other clip of the task has, else its place (``#2``). Servers send null,
    integer and repeated IDs; keyed by ID alone, such clips shared one saved
    file and one "Saved" mark."""
    counts = Counter(clip.id for clip in clips)
    return [
        # An ID that starts with "#" could be another clip's position: not used.
        clip.id if _own_key(clip.id, counts) else f"#{index + 1}"
        for index, clip in enumerate(clips)
    ]


def _own_key(clip_id: str | None, counts: Counter[str | None]) -> bool:
    return bool(clip_id) and counts[clip_id] == 1 and not str(clip_id).startswith("#")


@dataclass
class TrackedTask:
    """One row of the dashboard: what we asked for and what we last heard.

    ``first_seen``/``finished_at`` are wall-clock seconds; their difference is
    the "took" column. ``last_poll`` and ``last_error`` are session-only.

    ``request`` is the generate body as sent (``GenerateRequest.to_json()``
    form) for tasks this dashboard or ``musicmint-tui generate`` started, and
    ``submitted_at`` when the server accepted it (wall clock); both ``None``
    for tasks added by ID.
    """

    id: str
    added_at: float
    task: Task | None = None
    first_seen: float | None = None
    finished_at: float | None = None
    gone: str | None = None  # server's "not found" message; polling stops
    expired: str | None = None  # server said the results expired (code 4005)
    downloads: dict[str, str] = field(default_factory=dict)  # clip key -> saved audio path
    last_poll: float | None = None
    last_error: str | None = None
    seq: int = 0  # place in the list (the order tasks were added)
    retry_at: float | None = None  # wall clock: the next try after last_error (session-only)
    request: dict[str, Any] | None = None  # the generate body as sent
    submitted_at: float | None = None  # wall clock: the server accepted the request

    @property
    def status(self) -> str:
        """The status counted and sorted by. A :attr:`submitted` task is
        "queuing": that is what the generate answer said (``status`` is always
        "queuing" there), so the status bar counts it with the queued ones at
        every width; the row says "submitted" (:func:`shown_status`) until a
        poll answers."""
        if self.gone is not None:
            return NOT_FOUND
        if self.task is None:
            return "queuing" if self.request is not None else "pending"
        return self.task.status or "unknown"

    @property
    def submitted(self) -> bool:
        """Started by a generate request, and the server has not yet answered a
        poll for it (nor said it does not know it)."""
        return self.request is not None and self.task is None and self.gone is None

    @property
    def generate_request(self) -> GenerateRequest | None:
        """:attr:`request` as a :class:`GenerateRequest` (to show, or to vary)."""
        return None if self.request is None else GenerateRequest.from_json(self.request)

    @property
    def request_label(self) -> str | None:
        """What the task was asked to be, for a row with no clip title yet (see
        :func:`label_of_request`); ``None`` without a request."""
        request = self.generate_request
        return None if request is None else label_of_request(request)

    def clip_expired(self, expire_at: int | None, now: float) -> str | None:
        """Why a clip's files are gone, or ``None`` while they can still be fetched."""
        if self.expired is not None:
            return f"the server says the results expired ({self.expired})"
        if expire_at and expire_at / 1000 <= now:
            return "its files expired"
        return None

    def clip_states(self, now: float) -> tuple[list[int], list[int], int]:
        """The clips' expiry times split for the expires column: (live and not
        saved, live and saved, how many have expired). ``expire_at`` 0 (never)
        counts as live with no time; unknown times are left out."""
        unsaved: list[int] = []
        saved: list[int] = []
        expired = 0
        clips = self.task.results if self.task else ()
        now_ms = now * 1000
        for clip, key in zip(clips, clip_keys(clips), strict=True):
            stamp = clip.expire_at
            if stamp is None:
                continue
            if 0 < stamp <= now_ms:
                expired += 1
            else:
                (saved if key in self.downloads else unsaved).append(stamp)
        return unsaved, saved, expired

    def started_at(self) -> tuple[float | None, str]:
        """When the work began, and how we know: the server's ``created_at``
        when it has one (and it is not after the finish we saw), else when
        we first saw the task. Running rows count from it, and "took" is from
        it to the finish we watched, so the number never drops at the finish."""
        created = self.task.created_at if self.task else None
        if created and created > 0:
            start = created / 1000
            if self.finished_at is None or start <= self.finished_at:
                return start, "created"
        return self.first_seen, "first seen"

    def saved_count(self) -> int:
        """Clips whose audio has been downloaded."""
        clips = self.task.results if self.task else ()
        downloads = self.downloads
        return sum(1 for key in clip_keys(clips) if key in downloads) if downloads else 0

    def expiring_unsaved(self, now: float, within: float) -> bool:
        """A clip not yet saved expires within ``within`` seconds (and has not yet)."""
        if self.expired is not None:
            return False
        unsaved = self.clip_states(now)[0]
        return any(0 < stamp / 1000 - now <= within for stamp in unsaved)

    @property
    def finished(self) -> bool:
        """No automatic polling needed any more."""
        return self.gone is not None or (self.task is not None and self.task.is_terminal)

    def to_toml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "added_at": self.added_at}
        if self.task is not None:
            out["task"] = _drop_none(self.task.to_json())
        for name in ("first_seen", "finished_at", "gone", "expired", "request", "submitted_at"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.downloads:
            out["downloads"] = dict(self.downloads)
        return out

    @classmethod
    def from_toml(cls, entry: dict[str, Any]) -> TrackedTask | None:
        task_id = as_str(entry.get("id"))
        if not task_id or not is_valid_task_id(task_id):
            return None
        raw_task = entry.get("task")
        return cls(
            id=task_id,
            added_at=as_float(entry.get("added_at")) or 0.0,
            task=(
                Task.from_json(raw_task, task_id, keep_raw=False)
                if isinstance(raw_task, dict)
                else None
            ),
            first_seen=as_float(entry.get("first_seen")),
            finished_at=as_float(entry.get("finished_at")),
            gone=as_str(entry.get("gone")),
            expired=as_str(entry.get("expired")),
            downloads=_str_map(entry.get("downloads")),
            request=request_body(entry.get("request")),
            submitted_at=as_float(entry.get("submitted_at")),
        )


def shown_status(record: TrackedTask) -> str:
    """The status word the screen shows: :data:`SUBMITTED` for a task waiting
    for the server's first answer, else :attr:`TrackedTask.status`."""
    return SUBMITTED if record.submitted else record.status


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _drop_none(value: Any) -> Any:
    """TOML has no null, and its integers are 64-bit: drop what cannot be written."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if _storable(v)}
    if isinstance(value, list):
        return [_drop_none(v) for v in value if _storable(v)]
    return value


def _storable(value: Any) -> bool:
    if value is None:
        return False
    return not (isinstance(value, int) and not -_INT64 - 1 <= value <= _INT64)
