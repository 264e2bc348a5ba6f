"""``musicmint-tui add ID...``: track tasks from any terminal or script.

With a dashboard running on the data folder, the IDs are handed to it over
its socket (tui/services/ipc.py) and its rows appear at once. With none, they
are written to the tracked list under the same lock a dashboard takes, and
the next dashboard polls them. IDs, URLs and pasted JSON are read as the Add
dialog reads them; what is not an ID is named on stderr.

``musicmint-tui generate`` tracks its new task here too, with the request it
was started with (:func:`add_ids` ``request``): handed over with it, or
stored with it and the time it was accepted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from tui.api.ids import ParsedIds, parse_task_ids
from tui.core import exit_codes
from tui.core.lock import DataLock, FolderInUse
from tui.core.sanitize import clean
from tui.domain.tracked import TrackedTask, request_body
from tui.services.ipc import AddResult, IpcError, NoDashboard, Refused, request_add, socket_path
from tui.services.store import DB_NAME, Changes, StoreError, TaskStore

#: IDs per request: even at 128 characters each, well under ipc.MAX_REQUEST.
CHUNK = 400
#: How long ``add`` waits for a dashboard that holds the lock but does not
#: answer yet (it listens once its task list is loaded).
STARTING_GRACE = 5.0


class AddFailed(Exception):
    """Said on stderr; ``status`` is the exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def run_add(text: str, folder: Path) -> int:
    """Track the IDs in ``text``; print what happened; return the exit status."""
    parsed = parse_task_ids(text)
    for token, reason in parsed.invalid[:10]:
        print(f"musicmint-tui: skipped '{clean(token, one_line=True)}': {reason}", file=sys.stderr)
    if len(parsed.invalid) > 10:
        print(f"musicmint-tui: skipped {len(parsed.invalid) - 10} more", file=sys.stderr)
    if not parsed.valid:
        print("musicmint-tui: no valid task IDs given", file=sys.stderr)
        return exit_codes.USAGE
    try:
        result, to_dashboard = add_ids(parsed.valid, folder)
    except AddFailed as exc:
        print(f"musicmint-tui: {exc}", file=sys.stderr)
        return exc.status
    print(summary(result, parsed, to_dashboard))
    return exit_codes.OK


def summary(result: AddResult, parsed: ParsedIds, to_dashboard: bool) -> str:
    """``added 2, 1 already tracked, 1 invalid`` and where they went."""
    parts = [f"added {len(result.added)}"]
    if result.duplicates:
        parts.append(f"{len(result.duplicates)} already tracked")
    invalid = len(parsed.invalid) + len(result.invalid)
    if invalid:
        parts.append(f"{invalid} invalid")
    where = (
        "in the running dashboard"
        if to_dashboard
        else "saved to the task list; the dashboard polls them when it starts"
    )
    return f"{', '.join(parts)} ({where})"


def add_ids(
    ids: list[str], folder: Path, request: dict[str, Any] | None = None
) -> tuple[AddResult, bool]:
    """Hand ``ids`` to the dashboard, or store them if none runs; the bool
    says which. ``request``: the generate request (body as sent) that just
    started the one task in ``ids``; it goes along. Raises AddFailed."""
    if request is not None and len(ids) != 1:
        raise ValueError("a generate request goes with exactly one task ID")
    path = socket_path(folder)
    deadline = time.monotonic() + STARTING_GRACE
    while True:
        try:
            if request is not None:
                return _hand_over_submitted(path, ids[0], request), True
            return _hand_over(path, ids), True
        except NoDashboard:
            pass
        except IpcError as exc:
            raise AddFailed(str(exc), exit_codes.IN_USE) from None
        lock = DataLock(folder)
        try:
            lock.acquire()
        except FolderInUse as exc:
            # A dashboard starting (it listens once its list is loaded), or
            # another `add` writing: try both again for a while.
            if time.monotonic() > deadline:
                raise AddFailed(
                    f"{exc}; it does not answer on {path} (is it an older version?)",
                    exit_codes.IN_USE,
                ) from None
            time.sleep(0.05)
            continue
        except OSError as exc:
            raise AddFailed(
                f"cannot use the data folder {folder}: {exc.strerror or exc}", exit_codes.USAGE
            ) from None
        try:
            return _store(ids, folder, request), False
        finally:
            lock.release()


def give_to_dashboard(ids: list[str], folder: Path) -> int | None:
    """``musicmint-tui ID...`` while a dashboard runs: hand the IDs to it and
    say so (exit status 0); ``None`` when it does not take them."""
    try:
        result = _hand_over(socket_path(folder), ids)
    except IpcError as exc:
        print(f"musicmint-tui: {exc}", file=sys.stderr)
        return None
    print(summary(result, ParsedIds(), to_dashboard=True))
    return exit_codes.OK


def _hand_over(path: Path, ids: list[str]) -> AddResult:
    total = AddResult()
    for start in range(0, len(ids), CHUNK):
        result = request_add(path, "\n".join(ids[start : start + CHUNK]))
        total.added += result.added
        total.duplicates += result.duplicates
        total.invalid += result.invalid
    return total


def _hand_over_submitted(path: Path, task_id: str, request: dict[str, Any]) -> AddResult:
    """Hand a generated task over with its request; a dashboard from before
    requests travelled refuses the extra key, and gets the ID alone."""
    try:
        return request_add(path, task_id, request=request)
    except Refused:
        return request_add(path, task_id)


def _store(ids: list[str], folder: Path, request: dict[str, Any] | None = None) -> AddResult:
    """Append the untracked ``ids`` to the stored list (the lock is held); with
    ``request``, the one ID is stored with it (attached if already stored
    without one)."""
    store = TaskStore(folder / DB_NAME)
    try:
        loaded = store.load()
        if loaded.read_only:
            raise AddFailed(f"not adding: {loaded.problem}", exit_codes.USAGE)
        if loaded.problem:
            print(f"musicmint-tui: warning: {loaded.problem}", file=sys.stderr)
        known = {record.id: record for record in loaded.tasks}
        seq = max((record.seq for record in loaded.tasks), default=-1) + 1
        now = time.time()
        body = request_body(request)
        result = AddResult()
        records: dict[str, TrackedTask] = {}
        for task_id in ids:
            if task_id in known or task_id in records:
                result.duplicates.append(task_id)
                stored = known.get(task_id)
                if body is not None and stored is not None and stored.request is None:
                    stored.request, stored.submitted_at = body, now
                    records[task_id] = stored
                continue
            records[task_id] = TrackedTask(id=task_id, added_at=now, seq=seq)
            if body is not None:
                records[task_id].request, records[task_id].submitted_at = body, now
            seq += 1
            result.added.append(task_id)
        try:
            store.apply(Changes(records))
        except StoreError as exc:
            raise AddFailed(str(exc), exit_codes.UNSAVED) from None
        return result
    finally:
        store.close()
