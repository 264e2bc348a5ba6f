"""The table's clock-driven cells: when they can change, so the tick can skip rows."""

from __future__ import annotations

import random

from tui.api.models import Clip, Task
from tui.domain.tracked import TrackedTask
from tui.ui.widgets.presentation import looks_change_at, time_looks

NOW = 1_790_000_000.0


def _record(age: float, expires_in: float | None) -> TrackedTask:
    expire_at = None if expires_in is None else int((NOW + expires_in) * 1000)
    clip = Clip("c", None, None, "T", 60.0, None, None, expire_at)
    task = Task("t", "completed", int((NOW - age) * 1000), (clip,))
    return TrackedTask("t", 0.0, task)


def test_young_or_nearly_expired_rows_are_looked_at_every_second() -> None:
    assert looks_change_at(_record(age=30, expires_in=86_400), NOW) == NOW + 1
    assert looks_change_at(_record(age=3600, expires_in=45), NOW) == NOW + 1


def test_nothing_changes_before_the_time_given() -> None:
    """Sampled: whatever the age and countdown, the looks at any moment before
    looks_change_at() are those of now, and the wait is at most a minute."""
    rng = random.Random(4)
    for _ in range(400):
        record = _record(
            rng.uniform(0, 10 * 86_400), rng.choice([None, rng.uniform(-60, 8 * 86_400)])
        )
        until = looks_change_at(record, NOW)
        assert until <= NOW + 60  # earlier than now: looked at again on the next tick
        before = time_looks(record, NOW)
        for _ in range(20):
            t = rng.uniform(NOW, max(NOW, until))
            assert time_looks(record, t) == before, (record, t - NOW)
