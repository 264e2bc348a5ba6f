"""``musicmint-tui wait``: the scriptable replacement for the spec's polling loop.

Every ID is polled concurrently; status changes go to stderr as they happen
(see :mod:`tui.cli.progress`) and the final results to stdout, so
``wait ... --json | jq`` works.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass

from tui.api import MusicMintError, NotFoundError, Task
from tui.cli.progress import Progress
from tui.core import exit_codes
from tui.core.formatting import clip_length
from tui.core.sanitize import clean, scrub
from tui.domain.tracked import NOT_FOUND
from tui.services.poller import Polled, Poller, PollEvent, PollFailed, TaskSource

#: What each status means, for ``wait --help``: the words are the dashboard's.
STATUSES = (
    ("completed", "finished; one line (or JSON result) per clip"),
    ("failed", "the generation failed; the server's reason is shown"),
    (NOT_FOUND, "the server does not know this task ID"),
    ("error", "another API error for this task, e.g. code 4005: its files expired"),
    ("queuing, processing", "still working when --timeout ran out"),
    ("pending", "no answer before --timeout ran out"),
)


@dataclass
class Outcome:
    """What ``wait`` knows about one ID when it stops."""

    task_id: str
    task: Task | None = None
    error: str | None = None  # a final per-task error (not found, API error)
    #: The error said the server does not know the task: shown as the
    #: dashboard shows it, "not found", not as a generic error.
    not_found: bool = False

    @property
    def status(self) -> str:
        if self.not_found:
            return NOT_FOUND
        if self.error is not None:
            return "error"
        if self.task is None:
            return "pending"
        return self.task.status or "unknown"

    @property
    def finished(self) -> bool:
        return self.error is not None or (self.task is not None and self.task.is_terminal)

    def to_json(self) -> dict[str, object]:
        if self.task is not None and self.error is None:
            return self.task.to_json()
        out: dict[str, object] = {"id": self.task_id, "status": self.status}
        if self.error is not None:
            out["error"] = self.error
        return out


async def wait_for(
    client: TaskSource,
    task_ids: list[str],
    timeout: float,
    interval: float,
    progress: Progress,
    secret: str = "",
    max_concurrency: int = 8,
) -> tuple[int, list[Outcome], str | None]:
    """Poll until all finish; return (exit status, outcomes in input order, message).

    Runs on the dashboard's :class:`~tui.services.poller.Poller`, so ``wait``
    has the same schedule, backoff, Retry-After cap and auth stop. What
    happens along the way goes to ``progress`` (live board or plain lines).
    """
    outcomes = {task_id: Outcome(task_id) for task_id in task_ids}
    finished = asyncio.Event()
    auth_error: MusicMintError | None = None

    def on_event(event: PollEvent) -> None:
        nonlocal auth_error
        if isinstance(event, Polled):
            outcome = outcomes[event.task_id]
            previous, outcome.task = outcome.status, event.task
            if outcome.status != previous:
                progress.status(event.task_id, outcome.status, event.task.error)
        elif isinstance(event, PollFailed):
            kind = event.kind
            if kind == "auth":
                auth_error = event.error
                finished.set()
                return
            if kind == "rate_limited":
                progress.trouble(event.task_id, f"rate limited, pausing {event.retry_in or 0:.0f}s")
            elif kind == "transient":
                text = f"{event.error.describe()}; retrying in {event.retry_in:.0f}s"
                progress.trouble(event.task_id, text)
            else:  # gone, or an API error answered on purpose: final for this task
                poller.untrack(event.task_id)
                outcome = outcomes[event.task_id]
                outcome.error = scrub(event.error.describe(), secret)
                outcome.not_found = isinstance(event.error, NotFoundError)
                progress.stopped(event.task_id, outcome.status, outcome.error)
        else:
            return
        if all(o.finished for o in outcomes.values()):
            finished.set()

    poller = Poller(client, on_event, interval=interval, max_concurrency=max_concurrency)
    for task_id in task_ids:
        poller.track(task_id)
    running = asyncio.create_task(poller.run())
    display = asyncio.create_task(progress.run())
    try:
        async with asyncio.timeout(timeout):
            done = asyncio.create_task(finished.wait())
            await asyncio.wait({done, running}, return_when=asyncio.FIRST_COMPLETED)
            done.cancel()
            if running.done():
                running.result()  # the poller itself failed: a bug, raise it now
    except TimeoutError:
        pending = [o.task_id for o in outcomes.values() if not o.finished]
        message = f"timed out after {timeout:g}s; still pending: {', '.join(pending)}"
        return exit_codes.TIMEOUT, list(outcomes.values()), message
    finally:
        for job in (running, display):
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
        progress.close()
    if auth_error is not None:
        message = f"authentication failed: {auth_error.describe()}"
        return exit_codes.AUTH, list(outcomes.values()), message
    ok = all(o.status == "completed" for o in outcomes.values())
    return (exit_codes.OK if ok else exit_codes.TASK_FAILED), list(outcomes.values()), None


def render_json(outcomes: list[Outcome]) -> str:
    # ensure_ascii: C1 controls and bidi overrides in server text stay escaped.
    return json.dumps([o.to_json() for o in outcomes], indent=2, ensure_ascii=True)


def render_table(outcomes: list[Outcome]) -> str:
    """One line per clip (or per task without clips), columns aligned."""
    rows = [("TASK", "STATUS", "TITLE", "LENGTH", "AUDIO / ERROR")]
    for o in outcomes:
        clips = o.task.results if o.task and o.error is None else ()
        if not clips:
            detail = o.error or (o.task.error if o.task else None) or ""
            rows.append((o.task_id, o.status, "—", "—", detail))
        for clip in clips:
            rows.append(
                (
                    o.task_id,
                    o.status,
                    clip.title or "—",
                    clip_length(clip.duration),
                    clip.audio_url or "(not ready)",
                )
            )
    rows = [tuple(clean(cell, one_line=True) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)
