"""The poller's schedule.

Schedule rules (interval, jitter, concurrency, backoff, pauses, stops) run in
virtual time against a scripted task source, so they are exact and take no
wall time; three end-to-end tests go over real HTTP to the simulator.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import defaultdict
from collections.abc import Callable

from tui.api import (
    AuthError,
    MusicMintClient,
    MusicMintError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    Task,
)
from tui.services.poller import (
    MAX_PAUSE,
    SLOW_AFTER,
    STRAGGLERS,
    LinkState,
    Polled,
    Poller,
    PollEvent,
    PollFailed,
)
from tui.simulator import Fault

from .conftest import KEY
from .virtual_time import now, run_virtual

Answer = Callable[[str, int], Task | MusicMintError]


def queued(task_id: str, n: int) -> Task | MusicMintError:
    return Task(id=task_id, status="queuing")


class Scripted:
    """A task source with no network: ``answer(task_id, n)`` decides the n-th
    reply (0-based) when the request is sent; it arrives ``latency`` seconds of
    (virtual) time later."""

    def __init__(self, answer: Answer = queued, latency: float = 0.01) -> None:
        self.answer = answer
        self.latency = latency
        self.starts: dict[str, list[float]] = defaultdict(list)
        self.inflight = 0
        self.max_inflight = 0

    async def get_task(self, task_id: str) -> Task:
        n = len(self.starts[task_id])
        self.starts[task_id].append(now())
        result = self.answer(task_id, n)  # the server decides when the request arrives
        self.inflight += 1
        self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            await asyncio.sleep(self.latency)
        finally:
            self.inflight -= 1
        if isinstance(result, MusicMintError):
            raise result
        return result

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.starts.values())


def make_poller(source: Scripted, events: list[PollEvent], **kw: object) -> Poller:
    """A poller on the running loop's (virtual) clock."""
    loop = asyncio.get_running_loop()
    return Poller(source, events.append, clock=loop.time, wall=loop.time, **kw)  # type: ignore[arg-type]


async def run_for(poller: Poller, seconds: float) -> None:
    runner = asyncio.create_task(poller.run())
    await asyncio.sleep(seconds)
    poller.stop()
    await runner


# -- virtual time: the schedule rules ---------------------------------------------


def test_new_task_polled_at_once_then_on_jittered_interval() -> None:
    async def main() -> None:
        source = Scripted(latency=0.05)
        events: list[PollEvent] = []
        poller = make_poller(source, events, interval=5.0, rng=random.Random(7))
        poller.track("slow")
        await run_for(poller, 60)
        starts = source.starts["slow"]
        assert starts[0] == 0.0
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert len(gaps) >= 10
        # fixed rate: latency does not stretch the period; ±10 % jitter
        assert all(4.5 <= g <= 5.5 for g in gaps), gaps
        assert len({round(g, 3) for g in gaps}) > 1  # jittered, not a metronome
        assert all(isinstance(e, Polled) for e in events)

    run_virtual(main)


def test_finished_tasks_are_never_polled_again() -> None:
    def answer(task_id: str, n: int) -> Task:
        return Task(id=task_id, status="completed" if task_id == "done" else "failed")

    async def main() -> None:
        source = Scripted(answer)
        poller = make_poller(source, [], interval=5.0)
        poller.track("done")
        poller.track("bad")
        await run_for(poller, 3600)  # an hour of virtual time
        assert source.starts == {"done": [0.0], "bad": [0.0]}
        assert poller.tracked == set()

    run_virtual(main)


def test_concurrency_is_bounded() -> None:
    async def main() -> None:
        source = Scripted(latency=0.4)  # answers in time: each keeps its slot
        poller = make_poller(source, [], interval=60.0, max_concurrency=3)
        for i in range(12):
            poller.track(f"h{i}")
        await run_for(poller, 1.5)
        assert source.max_inflight == 3
        assert source.total == 12  # four rounds of three, 0.4 s each
        rounds = sorted({round(s[0], 3) for s in source.starts.values()})
        assert rounds == [0.0, 0.4, 0.8, 1.2]

    run_virtual(main)


def test_concurrency_changes_live() -> None:
    """Settings saved while polling: raised, more go at once; lowered, the
    requests in flight finish and fewer follow."""

    async def main() -> None:
        source = Scripted(latency=0.4)
        poller = make_poller(source, [], interval=60.0, max_concurrency=2)
        for i in range(30):
            poller.track(f"c{i}")
        runner = asyncio.create_task(poller.run())
        await asyncio.sleep(0.2)  # two in flight
        assert source.inflight == 2
        poller.set_max_concurrency(5)
        await asyncio.sleep(0.1)
        assert source.inflight == 5  # three more went at once
        poller.set_max_concurrency(1)
        await asyncio.sleep(0.55)  # the five all ended; one slot left
        assert source.inflight == 1
        source.max_inflight = 0
        await asyncio.sleep(2)
        assert source.max_inflight == 1
        poller.stop()
        await runner

    run_virtual(main)


def test_slow_answers_give_their_slot_back_within_a_bound() -> None:
    """Stuck requests must not starve the rest, nor multiply without end."""

    async def main() -> None:
        source = Scripted(latency=100.0)
        poller = make_poller(source, [], interval=60.0, max_concurrency=2)
        for i in range(40):
            poller.track(f"s{i}")
        await run_for(poller, 30)
        # 2 slots, plus at most 3 x 2 requests that gave theirs back.
        assert source.max_inflight == 2 + STRAGGLERS * 2
        first = sorted(s[0] for s in source.starts.values())
        assert first[:4] == [0.0, 0.0, SLOW_AFTER, SLOW_AFTER]

    run_virtual(main)


def test_untrack_while_in_flight_stops_rescheduling() -> None:
    async def main() -> None:
        source = Scripted(latency=1.0)
        poller = make_poller(source, [], interval=0.5)
        poller.track("gone")
        runner = asyncio.create_task(poller.run())
        await asyncio.sleep(0.5)  # the request is in flight
        poller.untrack("gone")
        await asyncio.sleep(600)
        poller.stop()
        await runner
        assert len(source.starts["gone"]) == 1

    run_virtual(main)


def test_not_found_stops_and_server_errors_back_off() -> None:
    def answer(task_id: str, n: int) -> MusicMintError:
        if task_id == "ghost":
            return NotFoundError("task not found", code=4004, http_status=404)
        return ServerError("bad gateway", http_status=503)

    async def main() -> None:
        events: list[PollEvent] = []
        source = Scripted(answer)
        poller = make_poller(source, events, interval=1.0, rng=random.Random(1), max_backoff=60)
        poller.track("ghost")
        poller.track("flaky")
        await run_for(poller, 300)
        ghost = [e for e in events if isinstance(e, PollFailed) and e.task_id == "ghost"]
        assert len(ghost) == 1 and ghost[0].retry_in is None
        flaky = [e for e in events if isinstance(e, PollFailed) and e.task_id == "flaky"]
        assert all(e.retry_in is not None and 1.0 <= e.retry_in <= 60 for e in flaky)
        # backing off (full jitter, capped at 60 s): far fewer than one a second
        assert 5 <= len(flaky) <= 60, len(flaky)
        assert poller.link.state == "offline"

    run_virtual(main)


def test_auth_failure_stops_everything_until_resume() -> None:
    refused = {"on": True}

    def answer(task_id: str, n: int) -> Task | MusicMintError:
        if refused["on"]:
            return AuthError("key disabled", code=1003)
        return Task(id=task_id, status="queuing")

    async def main() -> None:
        events: list[PollEvent] = []
        source = Scripted(answer, latency=0.1)
        poller = make_poller(source, events, interval=5.0)
        for i in range(3):
            poller.track(f"a{i}")
        runner = asyncio.create_task(poller.run())
        await asyncio.sleep(3600)
        assert source.total == 3  # what was in flight; then nothing for an hour
        assert poller.auth_blocked
        assert any(isinstance(e, LinkState) and e.state == "auth_failed" for e in events)
        refused["on"] = False
        poller.resume()
        await asyncio.sleep(1)
        poller.stop()
        await runner
        assert {e.task_id for e in events if isinstance(e, Polled)} == {"a0", "a1", "a2"}
        assert poller.link.state == "ok"

    run_virtual(main)


def test_retry_after_pauses_everything_and_resume_keeps_it() -> None:
    def answer(task_id: str, n: int) -> Task | MusicMintError:
        if task_id == "p1" and n == 0:
            return RateLimitedError("too many requests", retry_after=30, http_status=429)
        return Task(id=task_id, status="queuing")

    async def main() -> None:
        events: list[PollEvent] = []
        source = Scripted(answer)
        poller = make_poller(source, events, interval=1.0)
        poller.track("p1")
        runner = asyncio.create_task(poller.run())
        await asyncio.sleep(0.5)
        poller.track("p2")  # added during the pause: must wait too
        assert 29 < poller.paused_for() <= 30
        poller.resume()  # e.g. ctrl+r after fixing the key: must not cut the pause short
        assert poller.link.state == "rate_limited"
        await asyncio.sleep(29)
        assert source.total == 1
        await asyncio.sleep(2)
        poller.stop()
        await runner
        assert source.starts["p2"] and source.starts["p2"][0] >= 30.0

    run_virtual(main)


def test_absurd_retry_after_is_capped() -> None:
    def answer(task_id: str, n: int) -> MusicMintError:
        return RateLimitedError("slow down", retry_after=10**12, http_status=429)

    async def main() -> None:
        source = Scripted(answer)
        poller = make_poller(source, [], interval=1.0)
        poller.track("p2")
        await run_for(poller, MAX_PAUSE + 60)
        assert len(source.starts["p2"]) == 2  # asked again once the capped pause ended
        assert source.starts["p2"][1] <= MAX_PAUSE + 1

    run_virtual(main)


def test_reconfigure_switches_client_and_interval() -> None:
    async def main() -> None:
        first, second = Scripted(), Scripted()
        poller = make_poller(first, [], interval=10.0, rng=random.Random(3))
        poller.track("t")
        runner = asyncio.create_task(poller.run())
        await asyncio.sleep(1)
        poller.reconfigure(second, 2.0)
        await asyncio.sleep(30)
        poller.stop()
        await runner
        assert len(first.starts["t"]) == 1
        gaps = [b - a for a, b in itertools.pairwise(second.starts["t"])]
        assert gaps and all(1.8 <= g <= 2.2 for g in gaps)

    run_virtual(main)


# -- real HTTP, end to end ----------------------------------------------------------


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_real_http_finished_tasks_stop(client, sim) -> None:
    sim.book.seed("done", outcome="completed", age=600)
    sim.book.seed("bad", outcome="failed", age=600)
    events: list[PollEvent] = []
    poller = Poller(client, events.append, interval=0.05)
    poller.track("done")
    poller.track("bad")
    runner = asyncio.create_task(poller.run())
    await wait_until(lambda: len([e for e in events if isinstance(e, Polled)]) == 2)
    poller.stop()
    await runner
    statuses = {e.task_id: e.task.status for e in events if isinstance(e, Polled)}
    assert statuses == {"done": "completed", "bad": "failed"}
    assert poller.tracked == set()


async def test_real_http_bad_answers_count_as_trouble(client, sim) -> None:
    sim.inject(None, Fault.truncated())
    events: list[PollEvent] = []
    poller = Poller(client, events.append, interval=0.02, max_backoff=0.05)
    for i in range(3):
        poller.track(f"b{i}")
    runner = asyncio.create_task(poller.run())
    await wait_until(lambda: poller.link.state == "offline")
    poller.stop()
    await runner
    failures = [e for e in events if isinstance(e, PollFailed)]
    assert failures and all(e.kind == "transient" for e in failures)


async def test_real_http_wrong_key_stops_polling(sim_server) -> None:
    events: list[PollEvent] = []
    async with MusicMintClient(sim_server.url, "sk-mm-wrong", timeout=2) as bad:
        poller = Poller(bad, events.append, interval=0.05)
        for i in range(3):
            poller.track(f"a{i}")
        runner = asyncio.create_task(poller.run())
        await wait_until(lambda: poller.auth_blocked)
        async with MusicMintClient(sim_server.url, KEY, timeout=2) as good:
            poller.reconfigure(good, 0.05)
            poller.resume()
            await wait_until(lambda: len({e.task_id for e in events if isinstance(e, Polled)}) == 3)
        poller.stop()
        await runner
    assert len(sim_server.sim.task_requests()) >= 4


def test_refusals_sent_before_resume_do_not_stop_polling_again() -> None:
    """ctrl+r with a fixed key while old requests are still in flight: their
    late refusals were made with the old key and must not block the new one."""
    key = {"good": False}

    def answer(task_id: str, n: int) -> Task | MusicMintError:
        return Task(id=task_id, status="queuing") if key["good"] else AuthError("bad key")

    async def main() -> None:
        events: list[PollEvent] = []
        slow = Scripted(answer, latency=2.0)
        poller = make_poller(slow, events, interval=5.0)
        poller.track("first")
        runner = asyncio.create_task(poller.run())
        await asyncio.sleep(2.5)  # "first" was refused: blocked
        assert poller.auth_blocked
        poller.track("second")
        poller.resume()  # not sent yet: blocked tasks wait for resume
        await asyncio.sleep(0.5)  # "first" and "second" now in flight with the old key
        assert slow.inflight == 2
        key["good"] = True  # the user fixed the key; resume again (ctrl+r)
        poller.resume()
        await asyncio.sleep(10)
        poller.stop()
        await runner
        assert not poller.auth_blocked
        assert {e.task_id for e in events if isinstance(e, Polled)} == {"first", "second"}

    run_virtual(main)


def test_lateness_includes_the_wait_for_a_free_slot() -> None:
    async def main() -> None:
        events: list[PollEvent] = []
        source = Scripted(latency=0.4)
        poller = make_poller(source, events, interval=60.0, max_concurrency=1)
        for i in range(3):
            poller.track(f"s{i}")
        await run_for(poller, 2)
        late = sorted(round(e.lateness, 3) for e in events if isinstance(e, Polled))
        assert late == [0.0, 0.4, 0.8]  # due at 0; sent at 0, 0.4 and 0.8

    run_virtual(main)


def test_a_bug_in_the_receiver_is_logged_and_polling_goes_on(caplog) -> None:
    """The dashboard's tracker runs inside the poller's callback: an exception
    there must not end the poll task silently or stop the schedule."""
    seen: list[PollEvent] = []

    def broken(event: PollEvent) -> None:
        seen.append(event)
        if len(seen) == 1:
            raise RuntimeError("tracker bug")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        source = Scripted()
        poller = Poller(
            source, broken, interval=5.0, clock=loop.time, wall=loop.time, rng=random.Random(3)
        )
        poller.track("a")
        await run_for(poller, 24)
        assert len(source.starts["a"]) == 5  # t = 0, 5, 10, 15, 20 (each ±10 %)

    from tui.core.logs import log

    log.propagate = True  # let caplog see our logger for this test
    try:
        run_virtual(main)
    finally:
        log.propagate = False
    assert "handling a poll result failed" in caplog.text
    assert "tracker bug" in caplog.text


def test_an_outage_is_probed_one_request_at_a_time_then_everyone_resumes() -> None:
    """2,000 tasks once kept ~68 requests/s going through an outage (each
    backing off alone), and after it stayed in their old backoff."""
    up_at = 300.0

    def answer(task_id: str, n: int) -> Task | MusicMintError:
        if now() < up_at:
            return NetworkError("connection refused")
        return Task(id=task_id, status="queuing")

    async def main() -> None:
        source = Scripted(answer)
        events: list[PollEvent] = []
        poller = make_poller(source, events, interval=5.0, rng=random.Random(5))
        for i in range(2000):
            poller.track(f"t{i}", delay=5.0 * i / 2000)
        runner = asyncio.create_task(poller.run())
        await asyncio.sleep(up_at)
        sent = [t for starts in source.starts.values() for t in starts]
        assert len(sent) < 40, len(sent)  # not ~68 per second for 300 s
        assert len([t for t in sent if t > 60]) <= 6  # one probe a minute at most
        assert source.max_inflight <= 8
        assert poller.link.state == "offline"
        # The next probe succeeds (within max_backoff), then every task is polled
        # within one interval, not when its own backoff would have let it.
        await asyncio.sleep(60 + 5.0 + 1)
        poller.stop()
        await runner
        back = [min((t for t in s if t >= up_at), default=None) for s in source.starts.values()]
        assert all(t is not None for t in back)
        recovered = min(t for t in back if t is not None)
        assert max(t for t in back if t is not None) - recovered <= 5.0 + 0.1
        assert any(isinstance(e, LinkState) and e.state == "ok" for e in events)

    run_virtual(main)


def test_resume_during_an_outage_sends_one_probe_not_everyone() -> None:
    def down(task_id: str, n: int) -> Task | MusicMintError:
        return NetworkError("connection refused")

    async def main() -> None:
        source = Scripted(down)
        poller = make_poller(source, [], interval=5.0, rng=random.Random(2))
        for i in range(500):
            poller.track(f"t{i}", delay=5.0 * i / 500)
        runner = asyncio.create_task(poller.run())
        await asyncio.sleep(120)
        assert poller.link.state == "offline"
        before = source.total
        poller.resume()  # ctrl+r with a new config
        await asyncio.sleep(1)
        assert source.total - before == 1  # one probe at once, not 500
        poller.stop()
        await runner

    run_virtual(main)
