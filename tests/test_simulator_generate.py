"""What the simulator makes of a generate request: listed tasks, clips shaped
by the request, and extensions of clips it knows. Real loopback throughout."""

from __future__ import annotations

import pytest

from tui.api import ApiError, GenerateRequest, MusicMintClient
from tui.api.generate import CONTINUE_AT_RANGE, body_problems
from tui.simulator.server import UNKNOWN_CLIP, unknown_clip_message

from .conftest import FakeClock


async def _finished(client: MusicMintClient, clock: FakeClock, request: GenerateRequest):
    result = await client.generate(request)
    clock.advance(3600)
    task = await client.get_task(result.task_id)
    assert task.status == "completed" and task.results
    return task


async def test_generated_tasks_are_listed_newest_first_with_their_time(
    client, sim, clock: FakeClock
) -> None:
    sim.book.seed("seeded-earlier", age=60)
    first = await client.generate(GenerateRequest(prompt="one"))
    clock.advance(2.5)
    second = await client.generate(GenerateRequest(prompt="two"))
    third = await client.generate(GenerateRequest(prompt="three"))  # the same instant
    page = await client.list_tasks()
    assert [t.id for t in page.items] == [
        third.task_id,
        second.task_id,
        first.task_id,
        "seeded-earlier",
    ]
    assert page.items[0].created_at == page.items[1].created_at == int(clock.now * 1000)
    assert page.items[2].created_at == int((clock.now - 2.5) * 1000)
    assert page.items[0].status == "queuing"


async def test_clips_take_title_tags_and_prompt_from_the_request(client, clock) -> None:
    request = GenerateRequest(prompt="[Verse]\nrain again", title="Rain", tags="lo-fi")
    task = await _finished(client, clock, request)
    assert {(c.title, c.tags, c.prompt) for c in task.results} == {
        ("Rain", "lo-fi", "[Verse]\nrain again")
    }


async def test_instrumental_has_no_lyrics_and_inspiration_gets_a_title(client, clock) -> None:
    task = await _finished(client, clock, GenerateRequest(tags="ambient", make_instrumental=True))
    assert all(c.prompt == "" and c.tags == "ambient" for c in task.results)
    idea = GenerateRequest(gpt_description_prompt="a sad song about rain in Lisbon")
    task = await _finished(client, clock, idea)
    assert {c.title for c in task.results} == {"Sad Rain In Lisbon"}
    assert all(c.prompt and c.tags for c in task.results)


async def test_an_extension_continues_a_known_clip(client, clock) -> None:
    original = await _finished(client, clock, GenerateRequest(title="Tide", tags="dub"))
    clip = original.results[0]
    assert clip.duration is not None
    at = int(clip.duration) - 20
    extended = await _finished(
        client, clock, GenerateRequest(prompt="more", continue_clip_id=clip.id, continue_at=at)
    )
    for result in extended.results:
        assert result.title == "Tide (extended)" and result.tags == "dub"
        assert result.duration is not None and result.duration > clip.duration - at
    again = await _finished(
        client, clock, GenerateRequest(continue_clip_id=extended.results[0].id, tags="x")
    )
    assert again.results[0].title == "Tide (extended)"  # not "(extended) (extended)"
    named = await _finished(
        client, clock, GenerateRequest(title="Tide II", continue_clip_id=clip.id, tags="dub")
    )
    assert named.results[0].title == "Tide II"


async def test_continue_at_past_a_known_clip_is_refused_with_the_clients_message(
    client, sim, clock
) -> None:
    clip = (await _finished(client, clock, GenerateRequest(prompt="x"))).results[0]
    assert clip.duration is not None
    request = GenerateRequest(
        prompt="x", continue_clip_id=clip.id, continue_at=int(clip.duration) + 5
    )
    with pytest.raises(ApiError) as err:
        await client.generate(request)  # the client does not know the length
    [expected] = body_problems(request.to_json(), clip_duration=clip.duration)
    assert (err.value.code, err.value.message) == (CONTINUE_AT_RANGE, expected.message)
    assert sim.generated[-1].task_id is None


@pytest.mark.parametrize("case", ["unknown", "unfinished", "expired"])
async def test_continuing_a_clip_the_simulator_cannot_extend_is_refused(
    client, sim, clock, case
) -> None:
    from tui.simulator.lifecycle import clip_id

    if case == "unknown":
        wanted = "clip-0000000000"
    elif case == "unfinished":
        sim.book.seed("still-going", queued_for=100, processing_for=100)
        wanted = clip_id("still-going", 0)
    else:
        sim.book.seed("long-gone", expiries=("expired",), outcome="completed", age=86_400)
        wanted = clip_id("long-gone", 0)
    with pytest.raises(ApiError) as err:
        await client.generate(GenerateRequest(prompt="x", continue_clip_id=wanted))
    assert (err.value.code, err.value.message) == (UNKNOWN_CLIP, unknown_clip_message(wanted))
    assert sim.generated[-1].task_id is None and sim.generated[-1].code == UNKNOWN_CLIP


async def test_generate_works_against_the_demos_simulator(tmp_path) -> None:
    # What --demo builds, minus the app: the dashboard's client comes from
    # this config (MusicMintClient.from_config), so a generate from the UI
    # reaches the demo's simulator with its key.
    from tui.cli.demo import demo_config, demo_simulator, seed
    from tui.core.config import load_config
    from tui.simulator import SimulatorServer

    sim = demo_simulator()
    seed(sim)
    with SimulatorServer(sim) as server:
        config = demo_config(load_config(), server, tmp_path)
        async with MusicMintClient.from_config(config) as client:
            result = await client.generate(GenerateRequest(prompt="demo", title="Demo Song"))
            assert result.status == "queuing"
            assert (await client.get_task(result.task_id)).status == "queuing"
            newest = (await client.list_tasks(page_size=1)).items[0]
    assert newest.id == result.task_id
    assert [r.task_id for r in sim.generated] == [result.task_id]
