"""``musicmint-tui export``: the tracked tasks as JSON or CSV, for scripts and spreadsheets."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from tui.core.sanitize import clean
from tui.domain.tracked import TrackedTask, clip_keys

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
)
#: A cell starting with one of these is a formula to a spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
    """A header row, then one row per clip (tasks without clips have no rows)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for record in records:
        task = record.task
        clips = task.results if task else ()
        for clip, key in zip(clips, clip_keys(clips), strict=True):
            row = (
                record.id,
                record.status,
                task.created_at if task else None,
                clip.id,
                clip.title,
                clip.duration,
                clip.tags,
                clip.prompt,
                clip.audio_url,
                clip.image_url,
                clip.expire_at,
                record.downloads.get(key),
            )
            writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()
