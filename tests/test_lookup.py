"""Finding the task an ambiguous generate failure may have created: against
the real simulator on loopback, and a hostile task list (byte-level)."""

from __future__ import annotations

import json

import httpx
import pytest

from tui.api import GenerateRequest, MaybeCreatedError, MusicMintClient, ServerError
from tui.services.lookup import MAX_MATCHES, MAX_PAGES, PAGE_SIZE, find_created

from .conftest import KEY, FakeClock

HEADERS = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}


def _inject(sim_server, spec: dict) -> None:
    answer = httpx.post(sim_server.url + "/_sim/faults", json=spec, headers=HEADERS)
    assert answer.json()["code"] == 0


async def test_a_timed_out_generate_is_found_exactly(sim_server, clock: FakeClock) -> None:
    sim = sim_server.sim
    sim.book.seed("old-task", age=3600)
    sim.book.seed("older-task", age=7200)
    sim.book.seed("tracked-recent", age=5)
    _inject(sim_server, {"kind": "generate_timeout", "seconds": 1, "times": 1})
    async with MusicMintClient(sim_server.url, KEY, timeout=0.3) as client:
        sent_at = clock.now
        clock.advance(2)
        with pytest.raises(MaybeCreatedError):
            await client.generate(GenerateRequest(prompt="x"))
        clock.advance(1)
        found = await find_created(client, sent_at, clock.now, {"tracked-recent"})
    [created] = [r.task_id for r in sim.generated]
    assert [t.id for t in found.tasks] == [created]
    assert found.tasks[0].created_at == int((sent_at + 2) * 1000)
    assert found.tracked == 1  # in the window, but already on the dashboard
    assert (found.listed, found.checked, found.pages, found.complete) == (4, 4, 1, True)


async def test_a_reset_before_accepting_finds_nothing(client, sim_server, clock) -> None:
    sim_server.sim.book.seed("yesterday", age=86_400)
    _inject(sim_server, {"kind": "generate_reset", "times": 1})
    sent_at = clock.now
    with pytest.raises(MaybeCreatedError):
        await client.generate(GenerateRequest(prompt="x"))
    found = await find_created(client, sent_at, clock.now, ())
    assert found.tasks == () and found.complete
    assert found.listed == 1 and found.since == sent_at - 30


async def test_a_server_error_after_creating_is_found(client, sim_server, clock) -> None:
    _inject(sim_server, {"kind": "generate_server_error", "times": 1})
    sent_at = clock.now
    with pytest.raises(MaybeCreatedError):
        await client.generate(GenerateRequest(tags="pop"))
    found = await find_created(client, sent_at, clock.now, ())
    assert [t.id for t in found.tasks] == [sim_server.sim.generated[0].task_id]


async def test_only_tasks_within_the_window_match_newest_first(client, sim, clock) -> None:
    for name, age in [("too-old", 200), ("just-before", 25), ("during", 5)]:
        sim.book.seed(name, age=age)
    sent_at, failed_at = clock.now - 10, clock.now + 10
    clock.advance(20)
    sim.book.seed("just-after")  # stamped 10 s after the failure: within the slack
    clock.advance(40)
    sim.book.seed("too-late")
    found = await find_created(client, sent_at, failed_at, ())
    assert [t.id for t in found.tasks] == ["just-after", "during", "just-before"]
    assert found.complete and found.listed == 5  # stopped at "too-old"
    narrow = await find_created(client, sent_at, failed_at, (), slack=0)
    assert [t.id for t in narrow.tasks] == ["during"]


async def test_the_search_is_bounded_in_pages_and_matches(client, sim, clock) -> None:
    for i in range(MAX_PAGES * PAGE_SIZE + 50):
        sim.book.seed(f"busy-{i:04d}", age=i / 100)
    found = await find_created(client, clock.now - 1, clock.now, ())
    assert (found.pages, found.listed) == (MAX_PAGES, MAX_PAGES * PAGE_SIZE)
    assert not found.complete
    assert len(found.tasks) == MAX_MATCHES and found.tasks[0].id == "busy-0000"


def _hostile_client(pages: dict[int, object], status: int = 200) -> MusicMintClient:
    """A client whose task list answers ``pages[n]`` (a ``data`` object) for page n."""

    def handler(request: httpx.Request) -> httpx.Response:
        page = json.loads(request.content)["page"]
        data = pages.get(page)
        if data is None:
            return httpx.Response(502, text="<html>bad gateway</html>")
        return httpx.Response(status, json={"code": 0, "message": "ok", "data": data})

    return MusicMintClient(
        "http://sim.invalid", KEY, timeout=2.0, transport=httpx.MockTransport(handler)
    )


NOW = 1_790_000_000.0
NOW_MS = int(NOW * 1000)


async def test_a_hostile_list_is_bounded_and_never_crashes() -> None:
    items: list[object] = [
        {"id": None, "created_at": NOW_MS},
        {"id": 7, "created_at": NOW_MS},
        {"id": "../etc/passwd", "created_at": NOW_MS},
        {"id": "x" * 10_000, "created_at": NOW_MS},
        {"id": "real-one", "status": "queuing", "created_at": NOW_MS},
        {"id": "real-one", "status": "queuing", "created_at": NOW_MS},
        {"id": "huge-time", "created_at": 10**40},
        {"id": "text-time", "created_at": "soon"},
        {"id": "zero-time", "created_at": 0},
        {"id": "no-time"},
        "not an object",
        None,
    ]
    items += [{"id": f"filler-{i}", "created_at": NOW_MS - 10**9} for i in range(10_000)]
    async with _hostile_client({1: {"items": items, "total": 10**30}}) as client:
        found = await find_created(client, NOW - 5, NOW, ())
    assert [t.id for t in found.tasks] == ["real-one"]
    assert found.listed == PAGE_SIZE  # the page's first 100 rows, as asked for
    assert found.skipped == 3 and found.undated == 4
    assert found.complete and found.pages == 1


async def test_a_later_page_failing_keeps_what_was_found() -> None:
    first = [{"id": f"task-{i}", "created_at": NOW_MS - i} for i in range(PAGE_SIZE)]
    async with _hostile_client({1: {"items": first, "total": 1000}}) as client:
        found = await find_created(client, NOW - 1, NOW, ())
    assert len(found.tasks) == MAX_MATCHES and not found.complete
    assert found.error and found.pages == 1


async def test_the_first_page_failing_is_raised() -> None:
    async with _hostile_client({}) as client:
        with pytest.raises(ServerError):
            await find_created(client, NOW - 1, NOW, ())


async def test_a_list_that_never_ends_is_read_three_pages_deep() -> None:
    same = [{"id": f"loop-{i}", "created_at": NOW_MS} for i in range(PAGE_SIZE)]
    async with _hostile_client({n: {"items": same} for n in range(1, 100)}) as client:
        found = await find_created(client, NOW, NOW, ())
    assert found.pages == MAX_PAGES and found.skipped == (MAX_PAGES - 1) * PAGE_SIZE
    assert len(found.tasks) == MAX_MATCHES and not found.complete
