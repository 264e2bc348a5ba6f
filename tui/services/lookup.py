"""After an ambiguous generate failure: did the server create the task after all?

``POST /api/v1/music/generate`` is not idempotent, and when it fails without a
usable answer (:class:`~tui.api.errors.MaybeCreatedError`: a timeout after
sending, a reset, HTTP 5xx) the task may or may not exist. Sending again could
pay for a second one, so the dashboard looks first.

Matching by time is the best we can do: the API takes no idempotency key and
the task list (``POST /api/v1/tasks``) echoes nothing of the request, so a
row's ``created_at`` is the only link to it. :func:`find_created` reads the
newest few pages and keeps the rows created between just before the request
was sent and just after the failure (``slack`` on both sides absorbs the
difference between our clock and the server's, and a server that stamps the
task late). Tasks already tracked are left out, and rows without a usable
``created_at`` are never matched (they are counted, so the UI can say so).

The answer is a suggestion, not a certainty: another device or script on the
same account may have made a task in the same minute. Tracking a task only
polls it, so it is harmless, but the UI offers the matches ("1 task created at
12:03:07 — track it?") rather than adding them behind the user's back, and
says what was searched when nothing matched ("no task created since 12:03:01
in the last 300 tasks").

No Textual here; the caller owns the client.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from tui.api import MusicMintError, TaskPage, TaskSummary
from tui.api.ids import is_valid_task_id

#: At most this many pages of :data:`PAGE_SIZE` rows are read: a task made a
#: minute ago is on the first page of any account but the busiest.
MAX_PAGES = 3
PAGE_SIZE = 100
#: Seconds added on both sides of [sent, failed] (clock skew, late stamping).
DEFAULT_SLACK = 30.0
#: At most this many matches are returned (each one is a question to the user).
MAX_MATCHES = 20


class TaskLister(Protocol):
    """What :func:`find_created` needs of the client (``MusicMintClient``)."""

    async def list_tasks(
        self, page: int = 1, page_size: int = 100, status: str | int = "all"
    ) -> TaskPage: ...


@dataclass(frozen=True, slots=True)
class Found:
    """What :func:`find_created` found, and how much it looked at."""

    #: Untracked tasks created within [since, until], newest first.
    tasks: tuple[TaskSummary, ...]
    #: The window searched, in seconds since the epoch.
    since: float
    until: float
    #: Rows read from the server (at most ``MAX_PAGES * PAGE_SIZE``).
    listed: int
    #: Rows with a valid ID and a ``created_at``: compared with the window.
    checked: int
    #: Rows with a valid ID but no usable ``created_at``: never matched.
    undated: int
    #: Rows skipped: an ID that is not a valid task ID, or one listed twice.
    skipped: int
    #: Rows within the window that are already tracked (not offered again).
    tracked: int
    #: Pages requested.
    pages: int
    #: True when every row that could match was read (the list ended, or
    #: reached tasks older than the window); False when the page limit or an
    #: error cut the search short.
    complete: bool
    #: Why a later page could not be read (the first page's errors are raised).
    error: str | None = None


async def find_created(
    client: TaskLister,
    sent_at: float,
    now: float,
    known: Collection[str],
    *,
    slack: float = DEFAULT_SLACK,
    before: float | None = None,
) -> Found:
    """The account's untracked tasks created between ``sent_at - before``
    (``before`` defaults to ``slack``) and ``now + slack``, newest first
    (seconds since the epoch; ``sent_at`` is when the generate request went
    out, ``now`` when it failed). A task cannot be created before its request
    is sent, so ``before`` need only cover the clocks' difference.

    Reads at most :data:`MAX_PAGES` pages, stopping early when the list ends
    or (being newest first) reaches a task older than the window. Raises
    :class:`~tui.api.errors.MusicMintError` if the first page cannot be read;
    a later page's failure ends the search with what was found so far
    (``complete`` False, ``error`` saying why).
    """
    slack = slack if math.isfinite(slack) and slack > 0 else 0.0
    before = slack if before is None else before
    before = before if math.isfinite(before) and before > 0 else 0.0
    since, until = sorted((sent_at, now))
    since, until = since - before, until + slack
    since_ms, until_ms = math.floor(since * 1000), math.ceil(until * 1000)
    tracked_ids = known if isinstance(known, set | frozenset) else frozenset(known)

    rows: list[TaskSummary] = []
    pages = 0
    complete = False
    error: str | None = None
    while pages < MAX_PAGES:
        try:
            page = await client.list_tasks(page=pages + 1, page_size=PAGE_SIZE, status="all")
        except MusicMintError as exc:
            if pages == 0:
                raise
            error = exc.message
            break
        pages += 1
        # A server that ignores page_size gets read as if it had obeyed.
        items = page.items[:PAGE_SIZE]
        rows += items
        dated = [row.created_at for row in items if row.created_at]
        if (
            not items
            or (page.total is not None and len(rows) >= page.total)
            or (dated and min(dated) < since_ms)
        ):
            complete = True
            break

    matches: list[TaskSummary] = []
    checked = undated = skipped = tracked = 0
    seen: set[str] = set()
    for row in rows:
        if not is_valid_task_id(row.id) or row.id in seen:
            skipped += 1
            continue
        seen.add(row.id)
        if not row.created_at:  # missing, out of range, or 0
            undated += 1
            continue
        checked += 1
        if since_ms <= row.created_at <= until_ms:
            if row.id in tracked_ids:
                tracked += 1
            else:
                matches.append(row)
    # Stable: rows stamped the same millisecond keep the server's order.
    ordered = sorted(matches, key=lambda row: row.created_at or 0, reverse=True)
    return Found(
        tasks=tuple(ordered[:MAX_MATCHES]),
        since=since,
        until=until,
        listed=len(rows),
        checked=checked,
        undated=undated,
        skipped=skipped,
        tracked=tracked,
        pages=pages,
        complete=complete,
        error=error,
    )
