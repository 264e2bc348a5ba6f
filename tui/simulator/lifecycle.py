"""What a simulated task looks like at a given moment.

Every task follows a plan derived from a hash of its ID, so the same ID
behaves the same in every run (tests can rely on which IDs fail), while demo
and tests may pin a plan explicitly with :meth:`TaskBook.seed`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

DAY_MS = 86_400_000

# Expiry kinds a clip can be given, so the countdown has every case to show.
EXPIRE_WEEK = "week"
EXPIRE_MINUTES = "minutes"
EXPIRE_NEVER = "never"
EXPIRE_PAST = "expired"

_TITLES = [
    "Neon Harbor",
    "Paper Satellites",
    "Glass Orchard",
    "Midnight Tram",
    "Copper Tide",
    "Velvet Static",
    "Low Sun Over Lisbon",
    "Quiet Engines",
    "Salt & Signal",
    "Northbound",
    "Cloud Archive",
    "Lanterns in Rain",
    "Soft Machinery",
    "Amber Loop",
    "Kite Weather",
]
_TAGS = [
    "pop upbeat",
    "lo-fi chill hiphop",
    "synthwave retro",
    "acoustic folk warm",
    "ambient drone",
    "drum and bass energetic",
    "jazz piano late-night",
    "cinematic orchestral",
]
_ERRORS = [
    "Generation failed: all platforms unavailable",
    "Generation failed: prompt rejected by content filter",
    "Generation failed: upstream timeout",
]


def _hash(task_id: str) -> int:
    return int.from_bytes(hashlib.sha256(task_id.encode()).digest()[:16], "big")


@dataclass(frozen=True)
class TaskPlan:
    """When a task changes state, relative to ``created`` (seconds since epoch)."""

    created: float
    queued_for: float
    processing_for: float
    outcome: str  # "completed" or "failed"
    expiries: tuple[str, ...] = (EXPIRE_WEEK,)
    error: str = _ERRORS[0]
    #: Generated tasks: what the request asked for, given to every clip
    #: (``None``: made up from the ID's hash, as for any other task).
    title: str | None = None
    tags: str | None = None
    prompt: str | None = None
    #: Extensions: every clip lasts longer than this (the original's tail).
    min_duration: float | None = None
    #: Days a "week" clip is kept after the task is done (the service's default: 7).
    retention_days: int = 7

    @property
    def done_at(self) -> float:
        return self.created + self.queued_for + self.processing_for


def clip_id(task_id: str, index: int) -> str:
    """The ID of a task's ``index``-th clip (the same in every run)."""
    return f"clip-{_hash(f'{task_id}#{index}') % 16**10:010x}"


#: Longest clip title, as the generate rules allow (``tui.api.generate.LIMITS``).
MAX_TITLE = 120
_EXTENDED = " (extended)"
_SKIPPED_WORDS = frozenset({"a", "an", "the", "some", "song", "track", "tune", "about", "of"})


def title_from_description(description: str) -> str:
    """A title made up from an inspiration-mode description, as the service
    would write one: its first few telling words, capitalised
    ("a sad song about rain in Lisbon" -> "Sad Rain In Lisbon")."""
    words = [w.strip(".,;:!?\"'()") for w in description.split()]
    kept = [w for w in words if w and w.lower() not in _SKIPPED_WORDS][:4]
    title = " ".join(w[:1].upper() + w[1:] for w in kept) or "Untitled"
    return title[:MAX_TITLE]


def extended_title(title: str) -> str:
    """``"<title> (extended)"`` within :data:`MAX_TITLE`, never doubled up."""
    if title.endswith(_EXTENDED):
        return title[:MAX_TITLE]
    return f"{title[: MAX_TITLE - len(_EXTENDED)]}{_EXTENDED}"


def request_look(
    task_id: str, request: dict[str, Any], original: dict[str, Any] | None
) -> dict[str, Any]:
    """The plan fields a generate request gives its task's clips.

    ``request`` is the accepted JSON body of task ``task_id``; ``original`` the clip it extends
    (``continue_clip_id``), if any. A request's own title and tags win; an
    extension otherwise keeps the original's tags and is titled
    "<original title> (extended)"; inspiration mode (``gpt_description_prompt``)
    gets a title made from the description. ``make_instrumental`` means no
    lyrics: the prompt is empty. What the request leaves open is made up.
    Every clip is kept ``retention_days`` (default 7) after the task is done:
    a fresh generation never comes back already expired.
    """

    def given(name: str) -> str | None:
        value = request.get(name)
        return value if isinstance(value, str) and value.strip() else None

    look: dict[str, Any] = {"title": given("title"), "tags": given("tags")}
    look["prompt"] = "" if request.get("make_instrumental") is True else given("prompt")
    days = request.get("retention_days")
    look["retention_days"] = days if isinstance(days, int) and not isinstance(days, bool) else 7
    look["expiries"] = (EXPIRE_WEEK,) * clip_count(task_id)
    idea = given("gpt_description_prompt")
    if original is not None:
        look["title"] = look["title"] or extended_title(str(original["title"]))
        look["tags"] = look["tags"] or original["tags"]
        at = request.get("continue_at")
        start = at if isinstance(at, int) and not isinstance(at, bool) else original["duration"]
        look["min_duration"] = max(0.0, float(original["duration"]) - start)
    elif idea is not None and look["title"] is None:
        look["title"] = title_from_description(idea)
    return look


def clip_count(task_id: str) -> int:
    """How many clips the task gives: one or two, by its ID's hash."""
    return 1 + (_hash(task_id) >> 24) % 2


def default_plan(task_id: str, created: float, time_scale: float) -> TaskPlan:
    """~20–60 s of work at ``time_scale`` 1; about one task in six fails."""
    h = _hash(task_id)
    kinds = (EXPIRE_WEEK,) * 4 + (EXPIRE_MINUTES,) * 2 + (EXPIRE_NEVER, EXPIRE_PAST)
    return TaskPlan(
        created=created,
        queued_for=(3 + h % 8) * time_scale,
        processing_for=(15 + (h >> 8) % 36) * time_scale,
        outcome="failed" if (h >> 16) % 6 == 0 else "completed",
        expiries=tuple(kinds[(h >> (32 + 3 * i)) % len(kinds)] for i in range(clip_count(task_id))),
        error=_ERRORS[(h >> 48) % len(_ERRORS)],
    )


@dataclass
class TaskBook:
    """Thread-safe registry of every task the simulator has heard of."""

    time_scale: float = 1.0
    clock: Callable[[], float] = time.time
    plans: dict[str, TaskPlan] = field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Every clip any plan gives, by clip ID: (task ID, index of the clip).
    clip_index: dict[str, tuple[str, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _sequence: dict[str, int] = field(default_factory=dict, repr=False)

    def _register(self, task_id: str, plan: TaskPlan) -> None:
        """Store ``plan`` (under the lock) and index its clips."""
        self.plans[task_id] = plan
        self._sequence.setdefault(task_id, len(self._sequence))
        for index in range(len(plan.expiries)):
            self.clip_index[clip_id(task_id, index)] = (task_id, index)

    def plan(self, task_id: str) -> TaskPlan:
        with self._lock:
            found = self.plans.get(task_id)
            if found is None:
                found = default_plan(task_id, self.clock(), self.time_scale)
                self._register(task_id, found)
            return found

    def seed(self, task_id: str, **changes: Any) -> TaskPlan:
        """Pin a task's plan; ``age`` (seconds) backdates its creation."""
        age = changes.pop("age", 0.0)
        base = default_plan(task_id, self.clock() - age, self.time_scale)
        plan = replace(base, **changes)
        with self._lock:
            self._register(task_id, plan)
        return plan

    def override(self, task_id: str, data: dict[str, Any]) -> None:
        """Serve ``data`` verbatim as this task's payload (hostile-data tests)."""
        with self._lock:
            self.overrides[task_id] = data

    def known(self) -> list[tuple[str, TaskPlan]]:
        """Every task, newest first as the service lists them; tasks made at
        the same instant (a test's frozen clock) newest-registered first."""
        with self._lock:
            order = self._sequence
            return sorted(
                self.plans.items(), key=lambda kv: (kv[1].created, order[kv[0]]), reverse=True
            )

    def clip(self, wanted: str) -> dict[str, Any] | None:
        """The clip ``wanted`` as its task serves it now, or ``None`` when no
        completed task has it (unknown, not finished yet, failed, expired, or
        its task serves an override)."""
        with self._lock:
            where = self.clip_index.get(wanted)
            if where is None or where[0] in self.overrides:
                return None
            task_id, index = where
            plan = self.plans[task_id]
        if index >= len(plan.expiries) or self.status(task_id, plan) != "completed":
            return None
        found = self._clip(task_id, index, plan.expiries[index], plan, "")
        if 0 < found["expire_at"] <= self.clock() * 1000:
            return None
        return found

    def status(self, task_id: str, plan: TaskPlan) -> str:
        now = self.clock()
        if now < plan.created + plan.queued_for:
            return "queuing"
        if now < plan.done_at:
            return "processing"
        return plan.outcome

    def payload(self, task_id: str, files_url: str) -> dict[str, Any]:
        """The ``data`` object of ``POST /api/v1/task/{id}`` right now."""
        with self._lock:
            override = self.overrides.get(task_id)
        if override is not None:
            return override
        plan = self.plan(task_id)
        status = self.status(task_id, plan)
        data: dict[str, Any] = {
            "id": task_id,
            "status": status,
            "created_at": int(plan.created * 1000),
        }
        if status == "failed":
            data["error"] = plan.error
        elif status == "completed":
            data["results"] = [
                self._clip(task_id, i, kind, plan, files_url)
                for i, kind in enumerate(plan.expiries)
            ]
        return data

    def summary(self, task_id: str, plan: TaskPlan) -> dict[str, Any]:
        status = self.status(task_id, plan)
        item: dict[str, Any] = {
            "id": task_id,
            "status": status,
            "created_at": int(plan.created * 1000),
        }
        if status == "failed":
            item["error"] = plan.error
        return item

    def _clip(
        self, task_id: str, index: int, kind: str, plan: TaskPlan, files_url: str
    ) -> dict[str, Any]:
        h = _hash(f"{task_id}#{index}")
        cid = clip_id(task_id, index)
        done_ms = int(plan.done_at * 1000)
        expire_at = {
            EXPIRE_WEEK: done_ms + plan.retention_days * DAY_MS,
            EXPIRE_MINUTES: done_ms + (5 + h % 10) * 60_000,
            EXPIRE_NEVER: 0,
            EXPIRE_PAST: done_ms - 3_600_000,
        }[kind]
        title = plan.title if plan.title is not None else _TITLES[h % len(_TITLES)]
        tags = plan.tags if plan.tags is not None else _TAGS[(h >> 8) % len(_TAGS)]
        if plan.min_duration is not None:
            # An extension: the original's tail plus 30-120 s of new music.
            duration = round(plan.min_duration + 30 + (h >> 16) % 9000 / 100, 1)
        else:
            duration = round(60 + (h >> 16) % 18000 / 100, 1)
        prompt = plan.prompt
        if prompt is None:
            prompt = (
                f"{'An' if tags[:1].lower() in tuple('aeiou') else 'A'} {tags} track called "
                f"{title}, take {index + 1}"
            )
        return {
            "id": cid,
            "audio_url": f"{files_url}/{cid}.mp3",
            "image_url": f"{files_url}/{cid}.jpg",
            "title": title,
            "duration": duration,
            "tags": tags,
            "prompt": prompt,
            "expire_at": expire_at,
        }
