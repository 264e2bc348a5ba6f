"""The tracked records and every rule for changing them, without a UI.

The dashboard used to apply poll results to its records inside the Textual
app, mixed with widget updates. Here each event (a poll result, a poll
failure, add, remove, undo, the task file arriving, a download saved) is
applied in one place and answers with what changed, so the UI only turns a
:class:`Change` into repaints and notifications and the rules are unit-tested
without Pilot or HTTP.

Widgets get :attr:`Tracker.records`, a read-only view: only this class adds,
removes or reorders records.

Questions asked every second (how many tasks per status, how many clips
expire soon unsaved) are answered from structures kept up to date on each
event, so a quiet dashboard costs the same with 50 or 50,000 tasks.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tui.api import NotFoundError, ResultExpiredError
from tui.core.logs import log
from tui.core.sanitize import scrub
from tui.domain.tracked import WORKING, TrackedTask, clip_keys, request_body
from tui.services.poller import Polled, PollFailed
from tui.services.store import Changes

#: (expire_at in ms, task ID, clip ID) of an unsaved clip that can still expire.
_Expiry = tuple[int, str, str]


@dataclass
class Change:
    """What one event did to one record, for the UI to show."""

    record: TrackedTask
    #: The row's text may differ: repaint it (and the detail pane if it shows it).
    repaint: bool = True
    #: The status changed: the status bar's counts are stale.
    status_changed: bool = False
    #: The task finished while we watched: announce it (toast and bell).
    finished: bool = False
    #: The server said it does not know the task: polling stopped.
    not_found: str | None = None
    #: Clips to save now (``[downloads] auto``).
    auto_download: list[int] = field(default_factory=list)  # clip indices to save


@dataclass
class Merged:
    """The task file was read: what the table must now show and poll."""

    resume: list[str]  # unfinished tasks from the file: poll them again
    added: list[TrackedTask]  # IDs from the command line that were not in the file


class Tracker:
    """Owns the records (insertion order = "added" order) and the undo stack.

    ``secret`` (the API key) is masked in every server message kept on a record.
    ``auto_download`` asks for a task's clips when it is seen completed.
    """

    def __init__(self, *, secret: str = "", auto_download: bool = False) -> None:
        self._records: dict[str, TrackedTask] = {}
        self.records: Mapping[str, TrackedTask] = MappingProxyType(self._records)
        self.secret = secret
        self.auto_download = auto_download
        #: Removed groups, last on top: (position, record) in ascending position.
        self._undo: list[list[tuple[int, TrackedTask]]] = []
        self._unsaved: set[str] = set()  # changed since the last changes()
        self._removed: set[str] = set()  # removed since the last changes()
        self._next_seq = 0  # list position of the next record added
        self.last_poll: float | None = None
        self._counts: Counter[str] = Counter()  # records per status
        self._expiries: list[_Expiry] = []  # sorted
        self._expiries_of: dict[str, list[_Expiry]] = {}  # task ID -> its entries
        #: Goes up whenever the unsaved expiries change (not by the clock):
        #: a watcher can skip looking while it and the window's edges stand.
        self.expiries_version = 0

    def __len__(self) -> int:
        return len(self._records)

    def get(self, task_id: str | None) -> TrackedTask | None:
        return self._records.get(task_id) if task_id else None

    # -- kept-up-to-date answers -----------------------------------------------
    def _forget(self, record: TrackedTask) -> None:
        """Take ``record`` out of the counts (before it changes or goes)."""
        self._counts[record.status] -= 1
        if record.id in self._expiries_of:
            self.expiries_version += 1
        for entry in self._expiries_of.pop(record.id, ()):
            index = bisect.bisect_left(self._expiries, entry)
            if index < len(self._expiries) and self._expiries[index] == entry:
                del self._expiries[index]

    def _note(self, record: TrackedTask) -> None:
        """Put ``record`` (as it is now) into the counts."""
        self._counts[record.status] += 1
        if record.task is None or record.expired is not None:
            return
        clips = record.task.results
        entries = [
            (clip.expire_at, record.id, key)
            for clip, key in zip(clips, clip_keys(clips), strict=True)
            if clip.expire_at and key not in record.downloads
        ]
        if entries:
            self.expiries_version += 1
            self._expiries_of[record.id] = entries
            for entry in entries:
                bisect.insort(self._expiries, entry)

    # -- the list ------------------------------------------------------------
    def add(self, task_ids: Iterable[str], now: float) -> list[TrackedTask]:
        """Track new IDs (typed, pasted, imported); already tracked ones are skipped."""
        added = []
        for task_id in task_ids:
            if task_id not in self._records:
                record = TrackedTask(id=task_id, added_at=now, seq=self._next_seq)
                self._next_seq += 1
                self._records[task_id] = record
                self._note(record)
                self._changed(record)
                added.append(record)
        return added

    def add_submitted(
        self,
        task_id: str,
        request: Mapping[str, Any],
        now: float,
        status: str | None = None,
        *,
        sent_at: float | None = None,
    ) -> TrackedTask:
        """Track a task the server has just accepted a generate ``request`` for
        (the body as sent), accepted at ``now``; it is saved like any change.

        Already tracked (``musicmint-tui generate`` handed the ID over first,
        or it was pasted): the request and ``now`` are attached when it has no
        request yet, else it is left as it is. ``status`` is what the generate
        answer said; it is no poll answer (no clips, no times), so the row
        still says "submitted" until the first poll, and it is only logged.
        ``sent_at`` is when the request went out, when that was earlier (a task
        found after a send that got no answer).
        """
        body = request_body(dict(request))
        record = self._records.get(task_id)
        if record is None:
            (record,) = self.add([task_id], now)
        elif record.request is not None:
            return record
        self._forget(record)
        record.request = body
        record.submitted_at = now if sent_at is None else sent_at
        self._note(record)
        self._changed(record)
        if status:
            log.info("task %s submitted (%s)", task_id, scrub(status, self.secret))
        return record

    def remove(self, task_ids: Iterable[str]) -> list[TrackedTask]:
        """Stop tracking ``task_ids`` (one or many): one undo brings them all back.

        One pass over the list whatever the count, so removing 10,000 marked
        rows costs what removing one does, not 10,000 times that."""
        wanted = set(task_ids)
        group = [
            (position, record)
            for position, (task_id, record) in enumerate(self._records.items())
            if task_id in wanted
        ]
        for _, record in group:
            self._forget(record)
            del self._records[record.id]
            self._unsaved.discard(record.id)
            self._removed.add(record.id)
        if group:
            self._undo.append(group)
        return [record for _, record in group]

    def undo(self) -> list[TrackedTask]:
        """Put the last removed group back where it was (empty: nothing to undo)."""
        while self._undo:
            # A removed ID that was added again since is back already: skip it.
            group = [(p, r) for p, r in self._undo.pop() if r.id not in self._records]
            if group:
                break
        else:
            return []
        items = list(self._records.items())
        for position, record in group:  # ascending: each lands where it was
            items.insert(position, (record.id, record))
        self._records.clear()  # the same dict: the read-only view must stay live
        self._records.update(items)
        for _, record in group:
            self._note(record)
            self._changed(record)  # keeps its seq: back in its old place
        return [record for _, record in group]

    def merge_loaded(
        self, loaded: list[TrackedTask], initial_ids: Iterable[str], now: float
    ) -> Merged:
        """The task file has been read (after the first frame): its records come
        first, then anything added meanwhile, then new IDs from the command line."""
        meanwhile = list(self._records.values())
        self._records.clear()
        for record in loaded:
            self._records[record.id] = record
        for record in meanwhile:
            kept = self._records.setdefault(record.id, record)
            if kept is not record and kept.request is None and record.request is not None:
                # Generated while the file was read: the stored row has no request yet.
                kept.request, kept.submitted_at = record.request, record.submitted_at
                self._changed(kept)
        self._counts.clear()
        self._expiries, self._expiries_of = [], {}
        self.expiries_version += 1
        for record in self._records.values():
            self._note(record)
        self._next_seq = max((r.seq for r in loaded), default=-1) + 1
        for record in meanwhile:  # added before the file was read: after its tasks
            if self._records.get(record.id) is record:
                record.seq = self._next_seq
                self._next_seq += 1
                self._changed(record)
        added = self.add(initial_ids, now)
        return Merged([r.id for r in loaded if not r.finished], added)

    def _changed(self, record: TrackedTask) -> None:
        self._unsaved.add(record.id)
        self._removed.discard(record.id)

    @property
    def dirty(self) -> bool:
        """Something worth saving changed since the last :meth:`changes`."""
        return bool(self._unsaved or self._removed)

    def changes(self) -> Changes:
        """What changed since the last call, for the store: copies of changed
        records (they are written on another thread) and removed IDs.

        Shallow copies suffice: a record's ``task`` is immutable and replaced,
        never changed; ``downloads`` is copied.
        """
        upserts = {
            task_id: dataclasses.replace(record, downloads=dict(record.downloads))
            for task_id in self._unsaved
            if (record := self._records.get(task_id)) is not None
        }
        changes = Changes(upserts, set(self._removed))
        self._unsaved, self._removed = set(), set()
        return changes

    # -- events --------------------------------------------------------------
    def polled(self, event: Polled) -> Change | None:
        """A poll answered; ``None`` when it changed nothing worth showing."""
        record = self._records.get(event.task_id)
        if record is None:  # removed while the request was in flight
            return None
        self.last_poll = record.last_poll = event.at
        self._forget(record)
        change = Change(record, repaint=record.last_error is not None or record.gone is not None)
        record.last_error = None
        record.retry_at = None
        record.gone = None
        if record.first_seen is None:
            record.first_seen = event.at
            change.repaint = True
        old_status = record.status
        if event.task != record.task:
            record.task = event.task
            change.repaint = True
            # Only a finish we watched happen has a meaningful "took", and is news.
            if event.task.is_terminal and old_status in WORKING:
                if record.finished_at is None:
                    record.finished_at = event.at
                change.finished = True
            if self.auto_download and event.task.status == "completed":
                change.auto_download = list(range(len(event.task.results)))
        change.status_changed = record.status != old_status
        self._note(record)
        if not (change.repaint or change.status_changed):
            return None  # the same answer again: nothing for the UI to do
        self._changed(record)
        return change

    def poll_failed(self, event: PollFailed) -> Change | None:
        record = self._records.get(event.task_id)
        if record is None:
            return None
        self.last_poll = record.last_poll = event.at
        error = event.error
        problem = scrub(error.describe(), self.secret)
        if problem != record.last_error:
            log.warning("task %s: %s", record.id, problem)  # once per distinct problem
        record.last_error = problem
        # The screen counts down to it ("retrying in 12s", live).
        record.retry_at = event.at + event.retry_in if event.retry_in else None
        change = Change(record)
        self._forget(record)
        # The poller classified this as "gone" (polling stopped); the record
        # keeps which of the two it was, as each reads differently on screen.
        if isinstance(error, NotFoundError):
            old_status = record.status
            record.gone = error.message
            change.not_found = problem
            change.status_changed = record.status != old_status
            self._changed(record)
        elif isinstance(error, ResultExpiredError):
            record.expired = error.message
            record.last_error = f"{problem}: the files are gone"
            self._changed(record)
        self._note(record)
        return change

    def link_restored(self, at: float) -> list[TrackedTask]:
        """The poller took every task out of its backoff: tries are due now, not
        at the times counted down so far. Returns the records that changed."""
        changed = []
        for record in self._records.values():
            if record.retry_at is not None and record.retry_at > at:
                record.retry_at = at
                changed.append(record)
        return changed

    def download_saved(self, task_id: str, clip_key: str, path: str) -> TrackedTask | None:
        """Clip ``clip_key`` (see :func:`~tui.domain.tracked.clip_keys`) is saved at ``path``."""
        record = self._records.get(task_id)
        if record is None or not clip_key:
            return None
        self._forget(record)
        record.downloads[clip_key] = path
        self._note(record)
        self._changed(record)
        return record

    # -- questions -----------------------------------------------------------
    def unfinished(self) -> list[str]:
        return [r.id for r in self._records.values() if not r.finished]

    @property
    def counts(self) -> Mapping[str, int]:
        """How many records have each status."""
        return self._counts

    def expiring_changes_in(self, now: float, warn_hours: float) -> float:
        """Seconds until :meth:`expiring_unsaved` can change by the clock alone:
        the next clip to expire, or to come within ``warn_hours``."""
        soonest = math.inf
        for edge in (now, now + warn_hours * 3600):
            index = self._after(edge)
            if index < len(self._expiries):
                soonest = min(soonest, self._expiries[index][0] / 1000 - edge)
        return soonest

    def expiring_unsaved(self, now: float, warn_hours: float) -> int:
        """Clips that expire within ``warn_hours`` and have not been downloaded."""
        return self._after(now + warn_hours * 3600) - self._after(now)

    def expiring_within(self, now: float, hours: float) -> list[tuple[int, str, str]]:
        """(expire_at in ms, task ID, clip key) of each unsaved clip that
        expires within ``hours``, soonest first."""
        return self._expiries[self._after(now) : self._after(now + hours * 3600)]

    def _after(self, when: float) -> int:
        """Index of the first unsaved clip expiring after ``when`` (wall seconds)."""
        return bisect.bisect_right(self._expiries, (int(when * 1000), "\uffff", "\uffff"))
