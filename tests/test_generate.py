"""Generate (#14): checked before sending, sent once, failures classified; the
simulator's endpoint applies the same rules. Real loopback throughout."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from tui.api import (
    ApiError,
    GenerateRequest,
    GenerateRequestError,
    MaybeCreatedError,
    MusicMintClient,
    NotSentError,
    ProtocolError,
    RequestTimeoutError,
    ServerError,
)
from tui.api.generate import body_problems
from tui.simulator import Fault

from .conftest import KEY, FakeClock

HEADERS = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
GENERATE = "/api/v1/music/generate"


def generate_requests(sim) -> list:
    return [r for r in sim.requests if r.path == GENERATE]


#: One broken rule each, the message it gives, and the simulator's code.
BROKEN = [
    (GenerateRequest(), "one of prompt, tags or gpt_description_prompt is required", 4201),
    (GenerateRequest(prompt="  \n", tags=""), "one of prompt, tags", 4201),
    (
        GenerateRequest(prompt="la la", gpt_description_prompt="a song about rain"),
        "cannot be combined with prompt or tags",
        4202,
    ),
    (
        GenerateRequest(tags="pop", gpt_description_prompt="a song about rain"),
        "cannot be combined with prompt or tags",
        4202,
    ),
    (GenerateRequest(prompt="x", continue_at=30), "continue_at: only with continue_clip_id", 4203),
    (
        GenerateRequest(prompt="x", continue_clip_id="clip-1", continue_at=-1),
        "continue_at: -1 s, must be 0 or more",
        4204,
    ),
    (GenerateRequest(prompt="x", retention_days=0), "retention_days: 0, must be 1 to 30", 4205),
    (GenerateRequest(prompt="x", retention_days=31), "retention_days: 31, must be 1 to 30", 4205),
    (GenerateRequest(prompt="x" * 5_123), "prompt: 5,123 characters, at most 5,000", 4206),
    (GenerateRequest(tags="t" * 201), "tags: 201 characters, at most 200", 4206),
    (GenerateRequest(prompt="x", title="t" * 121), "title: 121 characters, at most 120", 4206),
    (
        GenerateRequest(gpt_description_prompt="d" * 501),
        "gpt_description_prompt: 501 characters, at most 500",
        4206,
    ),
    (
        GenerateRequest(prompt="verse\x1b[31m"),
        "prompt: contains a control character U+001B (only newlines are allowed)",
        4207,
    ),
    (GenerateRequest(tags="pop\nrock"), "tags: contains a control character U+000A", 4207),
    (GenerateRequest(prompt="x", persona_id="a/../b"), "persona_id: contains a path", 4209),
]


@pytest.mark.parametrize(("request_", "message", "code"), BROKEN)
async def test_a_broken_request_is_refused_before_sending(client, sim, request_, message, code):
    problems = request_.problems()
    assert len(problems) == 1 and message in problems[0]
    with pytest.raises(GenerateRequestError) as err:
        await client.generate(request_)
    assert message in str(err.value)
    assert generate_requests(sim) == [] and sim.generated == []


@pytest.mark.parametrize(("request_", "message", "code"), BROKEN)
def test_the_simulator_refuses_each_rule_with_its_code(sim_server, request_, message, code):
    # Raw JSON past the client's checks: the server's own answer.
    answer = httpx.post(sim_server.url + GENERATE, json=request_.to_json(), headers=HEADERS)
    assert answer.status_code == 400
    envelope = answer.json()
    assert envelope["code"] == code and message in envelope["message"]
    assert sim_server.sim.generated[-1].task_id is None
    assert sim_server.sim.book.known() == []


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"prompt": 5}, 4208, "prompt: must be text"),
        ({"prompt": "x", "make_instrumental": "yes"}, 4208, "make_instrumental: must be true"),
        ({"prompt": "x", "retention_days": 7.5}, 4208, "retention_days: must be a whole number"),
        ({"prompt": "x", "continue_clip_id": "c1", "continue_at": True}, 4208, "continue_at"),
        ([], 4000, "the body must be a JSON object"),
    ],
)
def test_the_simulator_refuses_wrong_types(sim_server, body, code, message) -> None:
    answer = httpx.post(sim_server.url + GENERATE, json=body, headers=HEADERS)
    assert (answer.status_code, answer.json()["code"]) == (400, code)
    assert message in answer.json()["message"]


def test_continue_at_is_checked_against_a_known_clip_length() -> None:
    request = GenerateRequest(prompt="x", continue_clip_id="clip-1", continue_at=200)
    assert request.problems() == []
    assert request.problems(clip_duration=180.5) == [
        "continue_at: 200 s is past the clip's end (0 to 180 s)"
    ]
    assert GenerateRequest(prompt="x", continue_clip_id="c", continue_at=180).problems(180) == []


def test_every_problem_is_listed_at_once() -> None:
    request = GenerateRequest(
        prompt="p" * 5_001, tags="t", gpt_description_prompt="d", retention_days=99
    )
    assert len(request.problems()) == 3


def test_only_set_fields_are_sent() -> None:
    assert GenerateRequest(tags="pop").to_json() == {"tags": "pop"}
    full = GenerateRequest(
        prompt="lyrics\nmore",
        title="T",
        tags="pop",
        make_instrumental=True,
        persona_id="p1",
        continue_clip_id="c1",
        continue_at=12,
        retention_days=30,
    ).to_json()
    assert full == {
        "prompt": "lyrics\nmore",
        "title": "T",
        "tags": "pop",
        "persona_id": "p1",
        "continue_clip_id": "c1",
        "continue_at": 12,
        "retention_days": 30,
        "make_instrumental": True,
    }
    assert body_problems(full) == []


async def test_generate_makes_a_task_that_progresses(client, sim, clock: FakeClock) -> None:
    request = GenerateRequest(prompt="verse one\nchorus", title="Rain", tags="lo-fi")
    result = await client.generate(request)
    assert result.status == "queuing"
    assert result.task_id.startswith("gen-")
    assert [r.task_id for r in sim.generated] == [result.task_id]
    assert json.loads(sim.generated[0].body) == request.to_json()
    assert len(generate_requests(sim)) == 1
    assert json.loads(generate_requests(sim)[0].body) == request.to_json()
    assert (await client.get_task(result.task_id)).status == "queuing"
    plan = sim.book.plan(result.task_id)
    clock.advance(plan.queued_for + 0.1)
    assert (await client.get_task(result.task_id)).status == "processing"
    clock.advance(plan.processing_for)
    task = await client.get_task(result.task_id)
    assert task.status == "completed" and task.results
    second = await client.generate(GenerateRequest(gpt_description_prompt="a song about rain"))
    assert second.task_id != result.task_id


async def test_the_trigger_word_makes_the_task_fail(client, sim, clock: FakeClock) -> None:
    result = await client.generate(GenerateRequest(gpt_description_prompt="sad FAILME song"))
    clock.advance(3600)
    task = await client.get_task(result.task_id)
    assert task.status == "failed" and task.error and "FAILME" in task.error


async def test_generate_is_not_sent_on_a_reused_connection(client, sim) -> None:
    # A poll leaves a keep-alive connection; generate opens its own anyway, so
    # a server closing the idle one can never make it send twice.
    await client.get_task("warm")
    await client.generate(GenerateRequest(tags="pop"))
    assert len(generate_requests(sim)) == 1


def _inject(sim_server, spec: dict) -> None:
    answer = httpx.post(sim_server.url + "/_sim/faults", json=spec, headers=HEADERS)
    assert answer.json()["code"] == 0


async def test_timeout_after_sending_may_have_created_the_task(sim_server) -> None:
    sim = sim_server.sim
    _inject(sim_server, {"kind": "generate_timeout", "seconds": 1, "times": 1})
    async with MusicMintClient(sim_server.url, KEY, timeout=0.3) as client:
        with pytest.raises(MaybeCreatedError) as err:
            await client.generate(GenerateRequest(prompt="x"))
    assert "the server may have created the task" in str(err.value)
    assert isinstance(err.value.cause, RequestTimeoutError)
    assert [r.task_id is not None for r in sim.generated] == [True]  # it was created
    assert sim.generate_fault is None  # used up by the one request: no retry


async def test_server_error_may_have_created_the_task(client, sim_server) -> None:
    sim = sim_server.sim
    _inject(sim_server, {"kind": "generate_server_error", "status": 503})
    with pytest.raises(MaybeCreatedError) as err:
        await client.generate(GenerateRequest(prompt="x"))
    assert isinstance(err.value.cause, ServerError) and err.value.http_status == 503
    assert len(sim.generated) == 1 and sim.generated[0].task_id is not None
    assert len(generate_requests(sim)) == 1


async def test_a_reset_may_have_created_the_task_as_far_as_the_client_knows(
    client, sim_server
) -> None:
    sim = sim_server.sim
    _inject(sim_server, {"kind": "generate_reset"})
    with pytest.raises(MaybeCreatedError):
        await client.generate(GenerateRequest(prompt="x"))
    assert [r.task_id for r in sim.generated] == [None]  # nothing was made
    assert len(generate_requests(sim)) == 1
    assert sim.book.known() == []


async def test_a_refused_connection_is_provably_not_sent() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with MusicMintClient(f"http://127.0.0.1:{port}", KEY, timeout=1.0) as client:
        with pytest.raises(NotSentError):
            await client.generate(GenerateRequest(prompt="x"))


async def test_httpx_path_classifies_the_same(sim_server) -> None:
    sim = sim_server.sim
    sim.generate_fault = Fault.html_error(502)
    transport = httpx.AsyncHTTPTransport()
    async with MusicMintClient(sim_server.url, KEY, timeout=1.0, transport=transport) as client:
        with pytest.raises(MaybeCreatedError):
            await client.generate(GenerateRequest(prompt="x"))
        assert len(sim.generated) == 1
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    transport = httpx.AsyncHTTPTransport()
    async with MusicMintClient(
        f"http://127.0.0.1:{port}", KEY, timeout=1.0, transport=transport
    ) as client:
        with pytest.raises(NotSentError):
            await client.generate(GenerateRequest(prompt="x"))


@pytest.mark.parametrize(
    "data",
    [{}, {"task_id": None}, {"task_id": 42}, {"task_id": "../etc"}, {"task_id": "x" * 129}],
)
async def test_an_answer_without_a_valid_task_id_is_a_protocol_error(sim_server, data) -> None:
    body = json.dumps({"code": 0, "message": "ok", "data": data}).encode()
    sim_server.sim.generate_fault = Fault(status=200, body=body)
    async with MusicMintClient(sim_server.url, KEY, timeout=1.0) as client:
        with pytest.raises(ProtocolError, match="task_id"):
            await client.generate(GenerateRequest(prompt="x"))


async def test_a_refusal_by_the_server_is_passed_on(sim_server) -> None:
    sim_server.sim.generate_fault = Fault.envelope_error(4300, "insufficient credits", status=402)
    async with MusicMintClient(sim_server.url, KEY, timeout=1.0) as client:
        with pytest.raises(ApiError) as err:
            await client.generate(GenerateRequest(prompt="x"))
    assert not isinstance(err.value, MaybeCreatedError)
    assert err.value.code == 4300


def test_from_json_round_trips_and_drops_what_is_not_a_request() -> None:
    request = GenerateRequest(
        prompt="[Verse]\nline", tags="pop", retention_days=9, make_instrumental=True
    )
    assert GenerateRequest.from_json(request.to_json()) == request
    odd = GenerateRequest.from_json(
        {"prompt": 3, "tags": "t" * 10_000, "continue_at": True, "retention_days": 10**30, "x": 1}
    )
    assert odd.prompt is None and odd.continue_at is None
    assert len(odd.tags or "") == 400 and odd.retention_days == 2**31
    assert odd.problems()  # still checked before sending


@pytest.mark.parametrize("transport", ["wire", "httpx"])
async def test_a_request_that_cannot_be_written_is_not_sent_on_either_path(
    sim_server, transport: str
) -> None:
    """A key no header can carry: the request never leaves, so it is
    NotSentError (safe to send again), never "may have created"."""
    extra = {"transport": httpx.AsyncHTTPTransport()} if transport == "httpx" else {}
    async with MusicMintClient(sim_server.url, "sk-mm-bad\nkey", timeout=1.0, **extra) as client:
        with pytest.raises(NotSentError, match="cannot send the request"):
            await client.generate(GenerateRequest(prompt="x"))
    assert sim_server.sim.generated == []
