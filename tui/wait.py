"""``musicmint-tui wait``: the scriptable replacement for the spec's polling loop.

Every ID is polled concurrently; status changes go to stderr as they happen
and the final results to stdout, so ``wait ... --json | jq`` works.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from tui import exit_codes
from tui.api import (
    ApiError,
    AuthError,
    MusicMintClient,
    MusicMintError,
    RateLimitedError,
    Task,
)
from tui.api.errors import TRANSIENT_ERRORS
from tui.formatting import clip_length
from tui.text import clean, scrub

MAX_BACKOFF = 60.0


@dataclass
class Outcome:
    """What ``wait`` knows about one ID when it stops."""

    task_id: str
    task: Task | None = None
    error: str | None = None  # a final per-task error (not found, API error)

    @property
    def status(self) -> str:
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


@dataclass
class _Gate:
    """A client-wide pause after a 429, so no task sends before Retry-After ends."""

    until: float = 0.0
    clock: Callable[[], float] = time.monotonic

    async def wait(self) -> None:
        while (delay := self.until - self.clock()) > 0:
            await asyncio.sleep(delay)

    def pause(self, seconds: float) -> None:
        self.until = max(self.until, self.clock() + seconds)


@dataclass
class Waiter:
    client: MusicMintClient
    interval: float
    log: TextIO = field(default_factory=lambda: sys.stderr)
    secret: str = ""  # the API key: masked wherever server text is echoed
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    gate: _Gate = field(default_factory=_Gate)

    def _say(self, task_id: str, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        print(f"{stamp} {task_id}: {scrub(text, self.secret)}", file=self.log, flush=True)

    async def run(self, task_ids: list[str]) -> None:
        for task_id in task_ids:
            self.outcomes[task_id] = Outcome(task_id)
        async with asyncio.TaskGroup() as group:
            for task_id in task_ids:
                group.create_task(self._follow(task_id))

    async def _follow(self, task_id: str) -> None:
        outcome = self.outcomes[task_id]
        failures = 0
        while True:
            await self.gate.wait()
            try:
                task = await self.client.get_task(task_id)
            except AuthError:
                raise
            except RateLimitedError as exc:
                pause = max(exc.retry_after or self.interval, self.interval)
                self.gate.pause(pause)
                self._say(task_id, f"rate limited, pausing {pause:.0f}s")
                continue
            except TRANSIENT_ERRORS as exc:
                failures += 1
                delay = min(MAX_BACKOFF, self.interval * 2 ** (failures - 1))
                self._say(task_id, f"{exc.describe()}; retrying in {delay:.0f}s")
                await asyncio.sleep(delay)
                continue
            except (ApiError, MusicMintError) as exc:
                outcome.error = scrub(exc.describe(), self.secret)
                self._say(task_id, f"error: {outcome.error}")
                return
            failures = 0
            previous = outcome.status
            outcome.task = task
            if outcome.status != previous:
                detail = f" ({task.error})" if task.error else ""
                self._say(task_id, f"{outcome.status}{detail}")
            if task.is_terminal:
                return
            await asyncio.sleep(self.interval)


async def wait_for(
    client: MusicMintClient,
    task_ids: list[str],
    timeout: float,
    interval: float,
    log: TextIO,
    secret: str = "",
) -> tuple[int, list[Outcome], str | None]:
    """Poll until all finish; return (exit status, outcomes in input order, message)."""
    waiter = Waiter(client, interval, log, secret)
    auth_error: AuthError | None = None
    try:
        async with asyncio.timeout(timeout):
            try:
                await waiter.run(task_ids)
            except* AuthError as group:
                auth_error = group.exceptions[0]  # type: ignore[assignment]
    except TimeoutError:
        pending = [o.task_id for o in waiter.outcomes.values() if not o.finished]
        message = f"timed out after {timeout:g}s; still pending: {', '.join(pending)}"
        return exit_codes.TIMEOUT, list(waiter.outcomes.values()), message
    if auth_error is not None:
        message = f"authentication failed: {auth_error.describe()}"
        return exit_codes.AUTH, list(waiter.outcomes.values()), message
    outcomes = list(waiter.outcomes.values())
    ok = all(o.status == "completed" for o in outcomes)
    return (exit_codes.OK if ok else exit_codes.TASK_FAILED), outcomes, None


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
