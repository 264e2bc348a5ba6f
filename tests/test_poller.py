"""The poller's schedule against the real simulator (no UI)."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import defaultdict

import pytest

from tui.api import MusicMintClient, Task
from tui.services.poller import LinkState, Polled, Poller, PollEvent, PollFailed
from tui.simulator import Fault

from .conftest import KEY


class Recording:
    """A real client that also notes when each request starts and how many overlap."""

    def __init__(self, client: MusicMintClient) -> None:
        self.client = client
        self.starts: dict[str, list[float]] = defaultdict(list)
        self.inflight = 0
        self.max_inflight = 0

    async def get_task(self, task_id: str) -> Task:
        self.starts[task_id].append(time.monotonic())
        self.inflight += 1
        self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            return await self.client.get_task(task_id)
        finally:
            self.inflight -= 1


async def run_for(poller: Poller, seconds: float) -> None:
    runner = asyncio.create_task(poller.run())
    await asyncio.sleep(seconds)
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner


async def test_new_task_polled_at_once_then_on_jittered_interval(client, sim) -> None:
    sim.book.seed("slow", queued_for=1000)
    rec = Recording(client)
    events: list[PollEvent] = []
    poller = Poller(rec, events.append, interval=0.2, rng=random.Random(7))
    tracked_at = time.monotonic()
    poller.track("slow")
    await run_for(poller, 1.3)
    starts = rec.starts["slow"]
    assert starts[0] - tracked_at < 0.05
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(gaps) >= 4
    assert all(0.17 <= g <= 0.26 for g in gaps), gaps
    assert len({round(g, 3) for g in gaps}) > 1  # jittered, not a metronome
    assert all(isinstance(e, Polled) for e in events)


async def test_finished_tasks_are_never_polled_again(client, sim) -> None:
    sim.book.seed("done", outcome="completed", age=600)
    sim.book.seed("bad", outcome="failed", age=600)
    rec = Recording(client)
    poller = Poller(rec, lambda e: None, interval=0.05)
    poller.track("done")
    poller.track("bad")
    await run_for(poller, 0.5)
    assert len(rec.starts["done"]) == 1 and len(rec.starts["bad"]) == 1
    assert poller.tracked == set()


async def test_concurrency_is_bounded(sim_server) -> None:
    for i in range(12):
        sim_server.sim.inject(f"h{i}", Fault.hang(0.3, times=1))
    async with MusicMintClient(sim_server.url, KEY, timeout=5) as client:
        rec = Recording(client)
        poller = Poller(rec, lambda e: None, interval=5, max_concurrency=3)
        for i in range(12):
            poller.track(f"h{i}")
        await run_for(poller, 1.6)
    assert rec.max_inflight == 3
    assert sum(len(v) for v in rec.starts.values()) == 12


async def test_untrack_while_in_flight_stops_rescheduling(sim_server) -> None:
    sim_server.sim.inject("gone", Fault.hang(0.2, times=1))
    async with MusicMintClient(sim_server.url, KEY, timeout=5) as client:
        rec = Recording(client)
        poller = Poller(rec, lambda e: None, interval=0.05)
        poller.track("gone")
        runner = asyncio.create_task(poller.run())
        await asyncio.sleep(0.05)
        poller.untrack("gone")
        await asyncio.sleep(0.5)
        runner.cancel()
    assert len(rec.starts["gone"]) == 1


async def test_not_found_stops_and_server_errors_back_off(client, sim) -> None:
    sim.inject("ghost", Fault.not_found())
    sim.inject("flaky", Fault.html_error(503))
    events: list[PollEvent] = []
    poller = Poller(client, events.append, interval=0.1, rng=random.Random(1))
    poller.track("ghost")
    poller.track("flaky")
    await run_for(poller, 0.6)
    failures = [e for e in events if isinstance(e, PollFailed)]
    ghost = [e for e in failures if e.task_id == "ghost"]
    assert len(ghost) == 1 and ghost[0].retry_in is None
    flaky = [e for e in failures if e.task_id == "flaky"]
    assert flaky and all(e.retry_in is not None and e.retry_in >= 0.1 for e in flaky)
    assert len(flaky) <= 4  # backing off, not every 0.1 s


async def test_auth_failure_stops_everything_until_resume(sim_server) -> None:
    events: list[PollEvent] = []
    async with MusicMintClient(sim_server.url, "sk-mm-wrong", timeout=2) as bad:
        poller = Poller(bad, events.append, interval=0.05)
        for i in range(3):
            poller.track(f"a{i}")
        runner = asyncio.create_task(poller.run())
        await asyncio.sleep(0.4)
        sent = len(sim_server.sim.task_requests())
        assert 1 <= sent <= 3  # at most what was already in flight
        assert poller.auth_blocked
        assert any(isinstance(e, LinkState) and e.state == "auth_failed" for e in events)
        async with MusicMintClient(sim_server.url, KEY, timeout=2) as good:
            poller.client = good
            poller.resume()
            await asyncio.sleep(0.3)
            runner.cancel()
    assert {e.task_id for e in events if isinstance(e, Polled)} == {"a0", "a1", "a2"}


async def test_resume_keeps_a_retry_after_pause(client, sim) -> None:
    sim.inject("p1", Fault.rate_limited("30", times=1))
    events: list[PollEvent] = []
    poller = Poller(client, events.append, interval=0.05)
    poller.track("p1")
    runner = asyncio.create_task(poller.run())
    await asyncio.sleep(0.3)
    assert 29 < poller.paused_for() <= 30
    sent = len(sim.task_requests())
    poller.resume()  # e.g. ctrl+r after fixing the key: must not cut the pause short
    await asyncio.sleep(0.3)
    assert len(sim.task_requests()) == sent
    assert poller.link.state == "rate_limited"
    poller.stop()
    runner.cancel()


async def test_absurd_retry_after_is_capped(client, sim) -> None:
    from tui.services.poller import MAX_PAUSE

    sim.inject("p2", Fault.rate_limited("99999999", times=1))
    poller = Poller(client, lambda e: None, interval=0.05)
    poller.track("p2")
    await run_for(poller, 0.3)
    assert 0 < poller.paused_for() <= MAX_PAUSE


async def test_bad_answers_count_as_trouble(client, sim) -> None:
    sim.inject(None, Fault.truncated())
    events: list[PollEvent] = []
    poller = Poller(client, events.append, interval=0.02, max_backoff=0.05)
    for i in range(3):
        poller.track(f"b{i}")
    await run_for(poller, 0.6)
    states = {e.state for e in events if isinstance(e, LinkState)}
    assert "offline" in states or "retrying" in states
