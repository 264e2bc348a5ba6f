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

    @property
    def done_at(self) -> float:
        return self.created + self.queued_for + self.processing_for


def default_plan(task_id: str, created: float, time_scale: float) -> TaskPlan:
    """~20–60 s of work at ``time_scale`` 1; about one task in six fails."""
    h = _hash(task_id)
    kinds = (EXPIRE_WEEK,) * 4 + (EXPIRE_MINUTES,) * 2 + (EXPIRE_NEVER, EXPIRE_PAST)
    clip_count = 1 + (h >> 24) % 2
    return TaskPlan(
        created=created,
        queued_for=(3 + h % 8) * time_scale,
        processing_for=(15 + (h >> 8) % 36) * time_scale,
        outcome="failed" if (h >> 16) % 6 == 0 else "completed",
        expiries=tuple(kinds[(h >> (32 + 3 * i)) % len(kinds)] for i in range(clip_count)),
        error=_ERRORS[(h >> 48) % len(_ERRORS)],
    )


@dataclass
class TaskBook:
    """Thread-safe registry of every task the simulator has heard of."""

    time_scale: float = 1.0
    clock: Callable[[], float] = time.time
    plans: dict[str, TaskPlan] = field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def plan(self, task_id: str) -> TaskPlan:
        with self._lock:
            found = self.plans.get(task_id)
            if found is None:
                found = self.plans[task_id] = default_plan(task_id, self.clock(), self.time_scale)
            return found

    def seed(self, task_id: str, **changes: Any) -> TaskPlan:
        """Pin a task's plan; ``age`` (seconds) backdates its creation."""
        age = changes.pop("age", 0.0)
        base = default_plan(task_id, self.clock() - age, self.time_scale)
        plan = replace(base, **changes)
        with self._lock:
            self.plans[task_id] = plan
        return plan

    def override(self, task_id: str, data: dict[str, Any]) -> None:
        """Serve ``data`` verbatim as this task's payload (hostile-data tests)."""
        with self._lock:
            self.overrides[task_id] = data

    def known(self) -> list[tuple[str, TaskPlan]]:
        with self._lock:
            return sorted(self.plans.items(), key=lambda kv: kv[1].created, reverse=True)

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
        clip_id = f"clip-{h % 16**10:010x}"
        done_ms = int(plan.done_at * 1000)
        expire_at = {
            EXPIRE_WEEK: done_ms + 7 * DAY_MS,
            EXPIRE_MINUTES: done_ms + (5 + h % 10) * 60_000,
            EXPIRE_NEVER: 0,
            EXPIRE_PAST: done_ms - 3_600_000,
        }[kind]
        title = _TITLES[h % len(_TITLES)]
        tags = _TAGS[(h >> 8) % len(_TAGS)]
        return {
            "id": clip_id,
            "audio_url": f"{files_url}/{clip_id}.mp3",
            "image_url": f"{files_url}/{clip_id}.jpg",
            "title": title,
            "duration": round(60 + (h >> 16) % 18000 / 100, 1),
            "tags": tags,
            "prompt": f"{'An' if tags[0] in 'aeiou' else 'A'} {tags} track called {title}, "
            f"take {index + 1}",
            "expire_at": expire_at,
        }
