"""Warning once per unsaved clip as its files near their expiry.

A clip not downloaded is warned about when it comes within ``[downloads]
warn_hours`` of expiring, and once more within the last hour (one warning
only when it is first seen inside the last hour already, or when
``warn_hours`` is an hour or less). A clip saved, expired or untracked drops
out of the tracker's unsaved expiries and so out of the warnings.

Cheap on every heartbeat: it looks again only when the tracker's unsaved
expiries changed (``expiries_version``) or the clock crossed the next edge
(a clip coming within either window, or expiring); otherwise it answers at
once with nothing. What was warned is kept by the app between runs
(``warned``, saved in the data folder's ``ui.json``), so a restart does not
warn about the same clips again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tui.domain.tracked import TrackedTask, clip_keys
from tui.services.tracker import Tracker

#: The second warning comes this many hours before the expiry.
LAST_HOURS = 1.0


@dataclass(frozen=True)
class ExpiryWarning:
    record: TrackedTask
    clip_key: str
    expire_at: float  # wall-clock seconds
    last_hour: bool  # the second (final) warning

    @property
    def clip_title(self) -> str | None:
        """The clip's title as the server sent it (clean it before showing it)."""
        clips = self.record.task.results if self.record.task else ()
        for clip, key in zip(clips, clip_keys(clips), strict=True):
            if key == self.clip_key:
                return clip.title
        return None


class ExpiryWatch:
    def __init__(self, warned: dict[tuple[str, str], int] | None = None) -> None:
        #: (task ID, clip key) -> 1 warned at warn_hours, 2 warned in the last hour.
        self._warned: dict[tuple[str, str], int] = dict(warned or {})
        #: What was warned changed since the owner last saved it.
        self.changed = False
        self._version = -1
        self._next_edge = -math.inf
        self._hours = math.nan  # warn_hours of the last look (ctrl+r may change it)

    def due(self, tracker: Tracker, now: float, warn_hours: float) -> list[ExpiryWarning]:
        """Warnings to give now, soonest expiry first (usually none)."""
        if (
            tracker.expiries_version == self._version
            and now < self._next_edge
            and warn_hours == self._hours
        ):
            return []
        last = min(LAST_HOURS, warn_hours)
        self._version, self._hours = tracker.expiries_version, warn_hours
        self._next_edge = now + min(
            tracker.expiring_changes_in(now, warn_hours), tracker.expiring_changes_in(now, last)
        )
        warnings = []
        inside: set[tuple[str, str]] = set()
        for expire_ms, task_id, clip_key in tracker.expiring_within(now, warn_hours):
            ident = (task_id, clip_key)
            inside.add(ident)
            expire_at = expire_ms / 1000
            stage = 2 if expire_at <= now + last * 3600 else 1
            if self._warned.get(ident, 0) >= stage:
                continue
            self._warned[ident] = stage
            self.changed = True
            record = tracker.get(task_id)
            if record is not None:
                warnings.append(ExpiryWarning(record, clip_key, expire_at, stage == 2))
        for ident in self._warned.keys() - inside:  # saved, expired or untracked
            del self._warned[ident]
            self.changed = True
        return warnings

    @property
    def warned(self) -> dict[tuple[str, str], int]:
        return dict(self._warned)
