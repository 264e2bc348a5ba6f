"""Typed views of the task-status payload.

The server is not trusted to send the documented shape: any field that is
missing, null or of the wrong type becomes ``None`` instead of an exception,
and an unknown status string is kept as-is so it can be shown.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from tui.core.logs import log

QUEUING = "queuing"
PROCESSING = "processing"
COMPLETED = "completed"
FAILED = "failed"
KNOWN_STATUSES = (QUEUING, PROCESSING, COMPLETED, FAILED)
TERMINAL_STATUSES = frozenset({COMPLETED, FAILED})

#: Status filter numbers of ``POST /api/v1/tasks``.
LIST_STATUS_FILTER = {"all": -1, QUEUING: 0, PROCESSING: 1, COMPLETED: 2, FAILED: 3}


_SURROGATE = re.compile("[\ud800-\udfff]")


def as_str(value: Any) -> str | None:
    """Strings only; a lone UTF-16 surrogate (valid JSON, invalid Unicode) becomes U+FFFD,
    since it cannot be printed or written to a UTF-8 file."""
    if not isinstance(value, str):
        return None
    if _SURROGATE.search(value):
        return _SURROGATE.sub("\ufffd", value)
    return value


def as_int(value: Any) -> int | None:
    """Integers (and integral finite floats, which JSON encoders emit) only."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


#: Timestamps are ms since the epoch. Before 2001 a value makes no sense as
#: milliseconds (a server sending seconds would make every clip "expired");
#: past the year 9999 it is not a time at all (and would overflow on / 1000).
EARLIEST_MS = 978_307_200_000
LATEST_MS = 253_402_300_799_999
#: Longest clip length believed, in seconds; longer is shown as unknown.
MAX_DURATION_S = 7 * 86_400
#: Counts (list totals, page numbers) past this are treated as missing.
MAX_COUNT = 1_000_000_000

_noted: set[str] = set()


def _note(message: str) -> None:
    """Record an out-of-range value in the error log, once per distinct message
    (a task polled every 5 s would otherwise repeat it forever)."""
    if message in _noted or len(_noted) > 1000:
        return
    _noted.add(message)
    log.warning("%s", message)


def _describe_number(number: int | float) -> str:
    if isinstance(number, int) and number.bit_length() > 64:
        return f"a {len(str(number))}-digit number"
    return repr(number)


#: Longest server text kept, by field; longer is cut with "…". A 6 MB prompt
#: once took 20 s to lay out in one detail card.
TEXT_LIMITS = {"id": 200, "title": 300, "tags": 500, "prompt": 10_000, "error": 2_000}
#: A URL longer than this is no URL we will fetch or open: missing.
MAX_URL = 4096
#: Results kept per task; the rest are dropped (and noted in the error log).
MAX_RESULTS = 20_000


def as_text(value: Any, name: str) -> str | None:
    """A string cut to its field's limit (see :data:`TEXT_LIMITS`)."""
    text = as_str(value)
    limit = TEXT_LIMITS[name]
    if text is None or len(text) <= limit:
        return text
    _note(f"{name} of {len(text):,} characters cut to {limit:,}")
    return text[: limit - 1] + "…"


def as_url(value: Any, name: str) -> str | None:
    text = as_str(value)
    if text is None or len(text) <= MAX_URL:
        return text
    _note(f"{name} of {len(text):,} characters is not used")
    return None


def as_timestamp_ms(value: Any, name: str) -> int | None:
    """An epoch time in ms within :data:`EARLIEST_MS`..:data:`LATEST_MS`, or 0
    ("never", for ``expire_at``). A value that is plausible only as seconds is
    read as seconds; anything else out of range is treated as missing. Both
    are noted in the error log."""
    number = as_int(value)
    if number is None or number == 0 or EARLIEST_MS <= number <= LATEST_MS:
        return number
    if EARLIEST_MS // 1000 <= number <= LATEST_MS // 1000:
        _note(f"{name} {number} looks like seconds, not milliseconds; read as seconds")
        return number * 1000
    _note(f"{name} {_describe_number(number)} is out of range; treated as missing")
    return None


def as_duration(value: Any) -> float | None:
    """A clip length in seconds within 0..:data:`MAX_DURATION_S`, else missing."""
    number = as_float(value)
    if number is None and isinstance(value, int) and not isinstance(value, bool):
        number = math.inf  # too big for a float: out of range below
    if number is None or 0 <= number <= MAX_DURATION_S:
        return number
    _note(f"duration {_describe_number(value)} is out of range; treated as missing")
    return None


def as_count(value: Any) -> int | None:
    number = as_int(value)
    return number if number is not None and 0 <= number <= MAX_COUNT else None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        result = float(value)
    except OverflowError:
        return None
    return result if math.isfinite(result) else None


@dataclass(frozen=True, slots=True)
class Clip:
    """One generated track. ``audio_url`` may be empty until the clip is ready."""

    id: str | None
    audio_url: str | None
    image_url: str | None
    title: str | None
    duration: float | None
    tags: str | None
    prompt: str | None
    expire_at: int | None  # ms since epoch; 0 means the files never expire

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Clip:
        return cls(
            id=as_text(obj.get("id"), "id"),
            audio_url=as_url(obj.get("audio_url"), "audio_url"),
            image_url=as_url(obj.get("image_url"), "image_url"),
            title=as_text(obj.get("title"), "title"),
            duration=as_duration(obj.get("duration")),
            tags=as_text(obj.get("tags"), "tags"),
            prompt=as_text(obj.get("prompt"), "prompt"),
            expire_at=as_timestamp_ms(obj.get("expire_at"), "expire_at"),
        )

    def to_json(self) -> dict[str, Any]:
        """The spec's result object, for ``wait --json`` and the task store."""
        return {
            "id": self.id,
            "audio_url": self.audio_url,
            "image_url": self.image_url,
            "title": self.title,
            "duration": self.duration,
            "tags": self.tags,
            "prompt": self.prompt,
            "expire_at": self.expire_at,
        }


@dataclass(frozen=True, slots=True)
class Task:
    """A task as last reported by the server. ``raw`` keeps the original ``data``."""

    id: str
    status: str | None
    created_at: int | None = None  # ms since epoch
    results: tuple[Clip, ...] = ()
    error: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_json(
        cls, data: dict[str, Any], expected_id: str | None = None, keep_raw: bool = True
    ) -> Task:
        """``keep_raw=False`` when the dict is not an API answer (the task file): with
        thousands of tasks, holding every parsed dict would double the memory."""
        results = data.get("results")
        if isinstance(results, list) and len(results) > MAX_RESULTS:
            _note(f"{len(results):,} results in one task; the first {MAX_RESULTS:,} are kept")
            results = results[:MAX_RESULTS]
        clips = (
            tuple(Clip.from_json(item) for item in results if isinstance(item, dict))
            if isinstance(results, list)
            else ()
        )
        return cls(
            id=as_str(data.get("id")) or expected_id or "",
            status=as_str(data.get("status")),
            created_at=as_timestamp_ms(data.get("created_at"), "created_at"),
            results=clips,
            error=as_text(data.get("error"), "error"),
            raw=data if keep_raw else {},
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "status": self.status, "created_at": self.created_at}
        if self.results or self.status == COMPLETED:
            out["results"] = [clip.to_json() for clip in self.results]
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass(frozen=True, slots=True)
class TaskSummary:
    """One row of ``POST /api/v1/tasks``."""

    id: str
    status: str | None
    created_at: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class TaskPage:
    items: tuple[TaskSummary, ...]
    total: int | None
    page: int | None
