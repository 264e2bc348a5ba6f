"""``musicmint-tui export``: the tracked tasks as JSON or CSV, for scripts and spreadsheets."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from tui.api.models import EARLIEST_MS, LATEST_MS
from tui.core.sanitize import clean
from tui.domain.tracked import TrackedTask, clip_keys, request_text

CSV_FIELDS = (
    "task_id",
    "task_status",
    "task_created_at",
    "clip_id",
    "title",
    "duration",
    "tags",
    "prompt",
    "audio_url",
    "image_url",
    "expire_at",
    "saved_path",
    "request",
)
#: A cell starting with one of these is a formula to a spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: What the CSV says for ``expire_at == 0``: the files are kept for good.
NEVER = "never"


def iso_utc(epoch_ms: object, *, zero: str = "") -> str:
    """An epoch time in ms as ISO 8601 UTC to the second, ``2026-11-25T12:03:07Z``.

    Spreadsheets and people read this; a 13-digit integer they cannot. ``0``
    becomes ``zero``; nothing known, or outside 2001..9999 (what the API
    layer accepts), becomes an empty cell, never an exception mid-export.
    JSON keeps the integers, exact to the millisecond.
    """
    if epoch_ms == 0 and not isinstance(epoch_ms, bool):
        return zero
    if isinstance(epoch_ms, bool) or not isinstance(epoch_ms, int):
        return ""
    if not EARLIEST_MS <= epoch_ms <= LATEST_MS:
        return ""
    return datetime.fromtimestamp(epoch_ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def task_json(record: TrackedTask) -> dict[str, Any]:
    task = record.task
    out: dict[str, Any] = {
        "id": record.id,
        "status": record.status,
        "created_at": task.created_at if task else None,
        "added_at": record.added_at,
        "first_seen": record.first_seen,
        "finished_at": record.finished_at,
        "error": (task.error if task else None) or record.gone,
        "request": record.request,
        "submitted_at": record.submitted_at,
        "results": [],
    }
    clips = task.results if task else ()
    for clip, key in zip(clips, clip_keys(clips), strict=True):
        item = clip.to_json()
        item["saved_path"] = record.downloads.get(key)
        out["results"].append(item)
    return out


def to_json(records: list[TrackedTask]) -> str:
    # ensure_ascii: faithful, and no C1 control or bidi override reaches a terminal.
    return json.dumps([task_json(r) for r in records], indent=2, ensure_ascii=True) + "\n"


def _cell(value: Any) -> Any:
    """Server text is untrusted: control characters are escaped (``clean``) and
    nothing may become a spreadsheet formula."""
    if isinstance(value, str):
        value = clean(value)
        return "'" + value if value.startswith(_FORMULA_START) else value
    return "" if value is None else value


def to_csv(records: list[TrackedTask]) -> str:
    """A header row, then one row per clip; a task without clips (queued,
    failed, not found) has one row with the clip cells empty, so every
    tracked task, and the request of a failed one, is in the file.

    Times are ISO 8601 UTC (see :func:`iso_utc`); an ``expire_at`` of 0 is
    written ``never``. ``request`` is the generate request the task was
    started with, as compact JSON (empty for tasks added by ID).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for record in records:
        task = record.task
        request = request_text(record.request)
        clips = task.results if task else ()
        if not clips:
            empty = (None,) * 9
            row = (record.id, record.status, iso_utc(task.created_at if task else None))
            writer.writerow([_cell(v) for v in (*row, *empty, request)])
        for clip, key in zip(clips, clip_keys(clips), strict=True):
            row = (
                record.id,
                record.status,
                iso_utc(task.created_at if task else None),
                clip.id,
                clip.title,
                clip.duration,
                clip.tags,
                clip.prompt,
                clip.audio_url,
                clip.image_url,
                iso_utc(clip.expire_at, zero=NEVER),
                record.downloads.get(key),
                request,
            )
            writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()
