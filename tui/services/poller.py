"""The polling schedule: who is asked next, when, and what happens on failure.

One asyncio loop owns the schedule. Each unfinished task has its own due time;
a new task is due at once, then every ``interval`` ±10 % so a thousand tasks
spread out instead of bursting. At most ``max_concurrency`` requests are in
flight, not counting slow ones (see :data:`SLOW_AFTER`), so a few stuck
answers never starve the rest. Failures back off per task (exponential, full jitter, never faster
than the interval); a 429 pauses *every* request until Retry-After; an auth
error stops all polling until :meth:`Poller.resume`. When most recent
requests fail the link is "offline": one request at a time probes it on a
backoff of its own, and when one succeeds every task leaves its backoff.

Results leave through a single callback as plain events; the app turns them
into Textual messages. Nothing here imports Textual, so the benchmark can run
the poller without a UI, and ``wait`` runs on the same schedule, backoff
and Retry-After rules as the dashboard.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tui.api import (
    AuthError,
    MusicMintError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ResultExpiredError,
    Task,
)
from tui.api.errors import NetworkError, ServerError
from tui.core.logs import log

MAX_BACKOFF = 60.0
#: The longest Retry-After we obey, in seconds.
MAX_PAUSE = 3600.0
JITTER = 0.10
#: Link health is judged over this many recent requests.
HEALTH_WINDOW = 10
#: A request still unanswered after this many seconds gives its concurrency
#: slot back (it runs on to its own deadline): eight answers trickling a byte
#: a second once held every slot, and a healthy task went unpolled for 40 s.
SLOW_AFTER = 0.5
#: Slow requests in flight at most, as a multiple of ``max_concurrency``.
STRAGGLERS = 3


def classify(exc: MusicMintError) -> str:
    """The one classification of a failed request, shared by every caller.

    - ``auth``: the key was refused; every request stops until resumed.
    - ``gone``: the task is unknown or its files expired; asking again will not help.
    - ``rate_limited``: every request pauses until Retry-After (capped).
    - ``transient``: network, timeout, 5xx or an unreadable answer; back off,
      and it counts against the link's health.
    - ``rejected``: the envelope said ``code != 0`` for another reason; back off.
    """
    if isinstance(exc, AuthError):
        return "auth"
    if isinstance(exc, NotFoundError | ResultExpiredError):
        return "gone"
    if isinstance(exc, RateLimitedError):
        return "rate_limited"
    if isinstance(exc, NetworkError | ServerError | ProtocolError):
        return "transient"
    return "rejected"


def retry_after_pause(exc: RateLimitedError, interval: float) -> float:
    """How long a 429 pauses everything: as the server asks, but never shorter
    than the interval nor longer than :data:`MAX_PAUSE` (a bogus Retry-After
    must not stop polling for days)."""
    return min(max(exc.retry_after or interval, interval), MAX_PAUSE)


class TaskSource(Protocol):
    async def get_task(self, task_id: str) -> Task: ...


@dataclass(frozen=True, slots=True)
class Polled:
    task_id: str
    task: Task
    at: float  # wall clock
    lateness: float  # seconds between due time and send time


@dataclass(frozen=True, slots=True)
class PollFailed:
    task_id: str
    error: MusicMintError
    at: float
    retry_in: float | None  # None: this task will not be polled again automatically

    @property
    def kind(self) -> str:
        """See :func:`classify`."""
        return classify(self.error)


#: ok | retrying | rate_limited | auth_failed | offline
@dataclass(frozen=True, slots=True)
class LinkState:
    state: str
    message: str = ""
    since: float | None = None  # wall clock: start of the current trouble
    last_success: float | None = None
    resume_at: float | None = None  # wall clock: when requests start again


PollEvent = Polled | PollFailed | LinkState


class Poller:
    def __init__(
        self,
        client: TaskSource,
        on_event: Callable[[PollEvent], None],
        *,
        interval: float = 5.0,
        max_concurrency: int = 8,
        max_backoff: float = MAX_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.on_event = on_event
        self.interval = interval
        self.max_concurrency = max_concurrency
        self.max_backoff = max_backoff
        self.clock = clock
        self.wall = wall
        self.rng = rng or random.Random()
        self._active: set[str] = set()  # tracked: polled until finished or untracked
        self._due: dict[str, float] = {}  # next send time of each active, idle task
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._failures: dict[str, int] = {}
        self._inflight: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._sem = asyncio.Semaphore(max_concurrency)
        #: Slots still to take back after max_concurrency was lowered: the
        #: next releases pay this off instead of freeing a slot.
        self._slot_debt = 0
        self._stragglers = 0  # slow requests that gave their slot back
        #: While offline, one request at a time probes the link, at this time.
        self._probe_at = 0.0
        self._probe_failures = 0
        self._answered_at: float | None = None  # (clock) the last successful answer
        self._paused_until = 0.0
        self.auth_blocked = False
        self._recent: deque[bool] = deque(maxlen=HEALTH_WINDOW)
        self._trouble_since: float | None = None
        self._last_success: float | None = None
        self._link = LinkState("ok")
        self._stopped = False
        #: Bumped by resume(): an auth refusal of a request sent before it is stale.
        self._epoch = 0

    # -- schedule control (call from the same event loop) --------------------
    def track(self, task_id: str, delay: float = 0.0) -> None:
        """Poll ``task_id`` after ``delay`` seconds, then on the interval."""
        self._active.add(task_id)
        if task_id not in self._inflight:
            self._schedule(task_id, self.clock() + delay)

    def untrack(self, task_id: str) -> None:
        self._active.discard(task_id)
        self._due.pop(task_id, None)
        self._failures.pop(task_id, None)

    def poll_now(self, task_id: str) -> None:
        """User asked: poll at once even if finished (also clears its backoff,
        and while offline it is the next probe, sent now)."""
        self._failures.pop(task_id, None)
        self._probe_at = 0.0
        self.track(task_id)

    def resume(self) -> None:
        """After an auth failure was fixed: every tracked task is due now.

        Requests still in flight were sent with the old key: their refusals
        must not stop polling again (see ``_epoch``)."""
        self._epoch += 1
        self.auth_blocked = False  # a Retry-After pause still holds
        if self._link.state == "offline":
            # Not everyone at once into an outage: one probe, now, with the
            # new settings; its success releases the rest.
            self._probe_at = 0.0
            self._wake.set()
            return
        now = max(self.clock(), self._paused_until)
        for task_id in self._active - self._inflight:
            self._failures.pop(task_id, None)
            self._schedule(task_id, now)
        if wait := self.paused_for():
            resume_at = self.wall() + wait
            self._set_link(
                LinkState(
                    "rate_limited",
                    "still rate limited",
                    last_success=self._last_success,
                    resume_at=resume_at,
                )
            )
        elif self._link.state == "auth_failed":
            # Not "ok" before an answer says so: the next answer decides (its
            # success sets "ok", a refusal "auth_failed" again).
            self._set_link(
                LinkState("retrying", "trying the key again", last_success=self._last_success)
            )
        else:
            self._set_link(LinkState("ok", last_success=self._last_success))

    def reconfigure(self, client: TaskSource, interval: float) -> None:
        """New settings (config reload): later requests use ``client``; each
        task's next poll keeps its time, the one after follows ``interval``."""
        self.client = client
        self.interval = interval

    def set_max_concurrency(self, limit: int) -> None:
        """At most ``limit`` requests in flight from now on (settings changed).
        Raising it frees slots at once; lowering it takes slots back as the
        requests in flight end, none of which is cut short."""
        if limit < 1:
            raise ValueError("max_concurrency must be at least 1")
        change, self.max_concurrency = limit - self.max_concurrency, limit
        if change < 0:
            self._slot_debt -= change
            return
        paid = min(change, self._slot_debt)
        self._slot_debt -= paid
        for _ in range(change - paid):
            self._sem.release()
        self._wake.set()

    def _release(self) -> None:
        """Give a slot back (or keep it, when the limit was lowered)."""
        if self._slot_debt:
            self._slot_debt -= 1
        else:
            self._sem.release()

    def paused_for(self) -> float:
        """Seconds left of a Retry-After pause (0 when not paused)."""
        return max(0.0, self._paused_until - self.clock())

    def stop(self) -> None:
        """End :meth:`run` at its next step (cancelling its task works too)."""
        self._stopped = True
        self._wake.set()

    @property
    def tracked(self) -> set[str]:
        return set(self._active)

    @property
    def link(self) -> LinkState:
        return self._link

    def _schedule(self, task_id: str, due: float) -> None:
        self._due[task_id] = due
        heapq.heappush(self._heap, (due, next(self._seq), task_id))
        self._wake.set()

    # -- the loop ------------------------------------------------------------
    async def run(self) -> None:
        self._stopped = False
        try:
            while not self._stopped:
                await self._step()
        finally:
            for task in list(self._tasks):
                task.cancel()

    async def _step(self) -> None:
        now = self.clock()
        if self.auth_blocked:
            await self._sleep(None)
            return
        if self._paused_until > now:
            await self._sleep(self._paused_until - now)
            return
        probing = self._link.state == "offline"
        if probing and self._inflight:
            await self._sleep(None)  # the probe's answer decides what comes next
            return
        if probing and self._probe_at > now:
            await self._sleep(self._probe_at - now)
            return
        # Drop heap entries made stale by untrack/reschedule.
        while self._heap and self._due.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)
        if not self._heap:
            await self._sleep(None)
            return
        due, _, task_id = self._heap[0]
        if probing:
            # The probe goes now, whatever its task's backoff; the task that
            # failed least makes the fairest test of the link.
            task_id = min(self._due, key=lambda t: self._failures.get(t, 0))
            due = self._due[task_id]
        elif due > now:
            await self._sleep(due - now)
            return
        await self._sem.acquire()
        if self._paused_until > self.clock() or self.auth_blocked:
            self._release()
            return
        if not probing:
            heapq.heappop(self._heap)
        del self._due[task_id]  # a probe's heap entry goes stale and is dropped later
        self._inflight.add(task_id)
        # Lateness at send time, after any wait for a free slot: a saturated
        # poller shows its backlog instead of hiding it in the semaphore.
        task = asyncio.create_task(self._poll(task_id, due, self.clock() - due))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sleep(self, seconds: float | None) -> None:
        """Sleep until ``seconds`` pass or the schedule changes.

        ``asyncio.timeout`` rather than ``wait_for``: on Python 3.11 a
        ``wait_for`` whose inner wait finishes as it is cancelled can swallow
        the cancellation, and the poller would then outlive its worker.
        """
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    async def _poll(self, task_id: str, due: float, lateness: float) -> None:
        epoch = self._epoch
        holds_slot = True

        def give_back() -> None:
            nonlocal holds_slot
            if holds_slot and self._stragglers < STRAGGLERS * self.max_concurrency:
                holds_slot = False
                self._stragglers += 1
                self._release()

        slow = asyncio.get_running_loop().call_later(SLOW_AFTER, give_back)
        try:
            try:
                task = await self.client.get_task(task_id)
            except MusicMintError as exc:
                self._failed(task_id, exc, stale=epoch != self._epoch)
            except Exception as exc:  # a bug must not kill the schedule
                self._failed(task_id, ProtocolError(f"unexpected {type(exc).__name__}: {exc}"))
            else:
                self._succeeded(task_id, task, due, lateness)
        finally:
            slow.cancel()
            self._inflight.discard(task_id)
            if holds_slot:
                self._release()
            else:
                self._stragglers -= 1
            self._wake.set()  # a probe's end may let the schedule go on

    def _succeeded(self, task_id: str, task: Task, due: float, lateness: float) -> None:
        self._failures.pop(task_id, None)
        self._answered_at = self.clock()
        self._recent.append(True)
        self._last_success = self.wall()
        self._trouble_since = None
        # An answer that was already in flight must not hide a pause or an auth stop.
        paused = self.auth_blocked or self._paused_until > self.clock()
        if self._link.state != "ok" and not paused:
            if self._link.state in ("offline", "retrying"):
                self._release_all()
            self._set_link(LinkState("ok", last_success=self._last_success))
        if task.is_terminal:
            self._active.discard(task_id)
        elif task_id in self._active and task_id not in self._due:
            # Fixed rate: the next poll is an interval after this one was *due*, so
            # request latency does not stretch the period; if we fell behind, now.
            jitter = self.rng.uniform(1 - JITTER, 1 + JITTER)
            self._schedule(task_id, max(due + self.interval * jitter, self.clock()))
        self._emit(Polled(task_id, task, self.wall(), lateness))

    def _failed(self, task_id: str, exc: MusicMintError, stale: bool = False) -> None:
        now, wall = self.clock(), self.wall()
        kind = classify(exc)
        retry_in: float | None
        if kind == "auth" and stale:
            retry_in = 0.0  # refused with the key we had before resume(): ask again
        elif kind == "auth":
            self.auth_blocked = True  # the task stays active; resume() reschedules it
            self._set_link(
                LinkState(
                    "auth_failed", exc.describe(), since=wall, last_success=self._last_success
                )
            )
            retry_in = None
        elif kind == "gone":
            retry_in = None
            self._failures.pop(task_id, None)
            self._active.discard(task_id)
        elif isinstance(exc, RateLimitedError):
            pause = retry_after_pause(exc, self.interval)
            self._paused_until = max(self._paused_until, now + pause)
            retry_in = self._paused_until - now
            self._set_link(
                LinkState(
                    "rate_limited",
                    exc.describe(),
                    since=wall,
                    last_success=self._last_success,
                    resume_at=wall + retry_in,
                )
            )
        else:
            failures = self._failures.get(task_id, 0) + 1
            self._failures[task_id] = failures
            ceiling = min(self.max_backoff, self.interval * 2**failures)
            retry_in = max(self.interval, self.rng.uniform(0, ceiling))
            if kind == "transient":
                self._recent.append(False)
                self._note_trouble(exc, wall, retry_in)
        if retry_in is not None and task_id in self._active and task_id not in self._due:
            self._schedule(task_id, now + retry_in)
        self._emit(PollFailed(task_id, exc, wall, retry_in))

    def _release_all(self) -> None:
        """The link is back: every task leaves its own backoff. Those due later
        than one interval from now are spread over the next interval, so the
        recovery is not a burst."""
        now = self.clock()
        self._failures.clear()
        self._probe_failures = 0
        late = [task_id for task_id, due in self._due.items() if due > now + self.interval]
        for n, task_id in enumerate(late):
            self._schedule(task_id, now + self.interval * (n + 1) / len(late))

    def _note_trouble(self, exc: MusicMintError, wall: float, retry_in: float) -> None:
        if self._trouble_since is None:
            self._trouble_since = wall
        failed = self._recent.count(False)
        # Offline only when nothing has answered for two intervals: tasks whose
        # answers trickle and time out must not take a working link for a dead
        # one (and put every other task behind a single probe).
        silent = self._answered_at is None or self.clock() - self._answered_at > 2 * self.interval
        if failed >= 3 and failed * 2 > len(self._recent) and silent:
            state = "offline"
            # One probe at a time on its own backoff: a 2,000-task outage once
            # kept ~68 requests/s going, each task backing off alone.
            now = self.clock()
            if self._probe_at <= now:  # a probe failed (not one of a burst already out)
                self._probe_failures += 1
                step = min(self.max_backoff, self.interval * 2 ** min(self._probe_failures, 16))
                self._probe_at = now + self.rng.uniform(0.8, 1.0) * step
            retry_in = self._probe_at - now
        elif self._link.state in ("ok", "retrying"):
            state = "retrying"
        else:
            return
        self._set_link(
            LinkState(
                state,
                exc.describe(),
                since=self._trouble_since,
                last_success=self._last_success,
                resume_at=wall + retry_in,
            )
        )

    def _emit(self, event: PollEvent) -> None:
        """Hand ``event`` on. The receiver runs in this loop (the dashboard's
        tracker); a bug there is logged, never allowed to end the poll task
        silently or stop the schedule."""
        try:
            self.on_event(event)
        except Exception:
            log.exception("handling a poll result failed (a bug; polling goes on)")

    def _set_link(self, link: LinkState) -> None:
        if link != self._link:
            self._link = link
            self._emit(link)
