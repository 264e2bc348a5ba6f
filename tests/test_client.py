"""The API client against the real simulator: every error class and the happy path."""

from __future__ import annotations

import json
import socket
from email.utils import formatdate

import httpx
import pytest

from tui import __version__
from tui.api import (
    ApiError,
    AuthError,
    InvalidTaskIdError,
    MusicMintClient,
    NetworkError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    ResultExpiredError,
    ServerError,
    mask_key,
)
from tui.simulator import Fault, Simulator, SimulatorServer

from .conftest import KEY, FakeClock
from .harness import gzip_bomb, peak_while_refusing_a_bomb


async def test_completed_task_has_every_spec_field(client, sim, clock: FakeClock) -> None:
    sim.book.seed("done1", outcome="completed", expiries=("week", "never"), age=600)
    task = await client.get_task("done1")
    assert task.id == "done1"
    assert task.status == "completed"
    assert task.is_terminal
    assert task.created_at == int((clock.now - 600) * 1000)
    assert len(task.results) == 2
    first, second = task.results
    assert first.id and first.id.startswith("clip-")
    assert first.audio_url and first.audio_url.endswith(".mp3")
    assert first.image_url and first.image_url.endswith(".jpg")
    assert first.title and first.tags and first.prompt
    assert isinstance(first.duration, float)
    assert first.expire_at and first.expire_at > clock.now * 1000
    assert second.expire_at == 0
    assert task.error is None


async def test_task_moves_through_states_with_the_clock(client, sim, clock: FakeClock) -> None:
    plan = sim.book.seed("walk", queued_for=5, processing_for=10, outcome="failed")
    assert (await client.get_task("walk")).status == "queuing"
    clock.advance(6)
    assert (await client.get_task("walk")).status == "processing"
    clock.advance(10)
    task = await client.get_task("walk")
    assert task.status == "failed"
    assert task.error == plan.error
    assert task.results == ()


async def test_request_shape_matches_the_spec(client, sim) -> None:
    await client.get_task("shape1")
    (record,) = sim.task_requests("shape1")
    assert record.method == "POST"
    assert record.path == "/api/v1/task/shape1"
    assert json.loads(record.body) == {}
    assert record.user_agent == f"musicmint-tui/{__version__}"


@pytest.mark.parametrize(
    "bad",
    ["", "../etc", "a/b", "a b", "x" * 129, "tab\there", "nl\n", "é", "%2e%2e", "a?b", "\x1b[31m"],
)
async def test_invalid_ids_never_reach_the_server(client, sim, bad: str) -> None:
    with pytest.raises(InvalidTaskIdError):
        await client.get_task(bad)
    assert sim.requests == []


async def test_wrong_key_is_an_auth_error(sim_server) -> None:
    async with MusicMintClient(sim_server.url, "sk-mm-wrong") as c:
        with pytest.raises(AuthError) as info:
            await c.get_task("abc")
    assert info.value.http_status == 401
    assert info.value.request_id


@pytest.mark.parametrize(("code", "text"), [(1003, "disabled"), (1004, "deleted")])
async def test_disabled_and_deleted_keys(sim_server, code: int, text: str) -> None:
    sim_server.sim.disabled_keys["sk-mm-old"] = code
    async with MusicMintClient(sim_server.url, "sk-mm-old") as c:
        with pytest.raises(AuthError) as info:
            await c.get_task("abc")
    assert info.value.code == code
    assert text in info.value.message


async def test_envelope_auth_code_with_http_200(client, sim) -> None:
    sim.inject("t1", Fault.envelope_error(1003, "API key is disabled"))
    with pytest.raises(AuthError) as info:
        await client.get_task("t1")
    assert info.value.code == 1003


async def test_rate_limit_seconds(client, sim) -> None:
    sim.inject("t1", Fault.rate_limited("7"))
    with pytest.raises(RateLimitedError) as info:
        await client.get_task("t1")
    assert info.value.retry_after == 7.0
    assert info.value.http_status == 429


async def test_rate_limit_http_date(client, sim) -> None:
    import time

    sim.inject("t1", Fault.rate_limited(formatdate(time.time() + 30, usegmt=True)))
    with pytest.raises(RateLimitedError) as info:
        await client.get_task("t1")
    assert info.value.retry_after is not None
    assert 25 <= info.value.retry_after <= 31


async def test_not_found_http_404(client, sim) -> None:
    sim.inject("ghost", Fault.not_found())
    with pytest.raises(NotFoundError) as info:
        await client.get_task("ghost")
    assert info.value.http_status == 404
    assert "not found" in info.value.message


async def test_not_found_in_envelope(client, sim) -> None:
    sim.inject("ghost", Fault.envelope_error(4004, "task does not exist"))
    with pytest.raises(NotFoundError):
        await client.get_task("ghost")


async def test_server_error_with_html_page(client, sim) -> None:
    sim.inject("t1", Fault.html_error(502))
    with pytest.raises(ServerError) as info:
        await client.get_task("t1")
    assert info.value.http_status == 502
    assert "HTML" in info.value.message


async def test_truncated_json_is_a_protocol_error(client, sim) -> None:
    sim.inject("t1", Fault.truncated())
    with pytest.raises(ProtocolError) as info:
        await client.get_task("t1")
    assert "not valid JSON" in info.value.message


async def test_result_expired_code(client, sim) -> None:
    sim.inject("old", Fault.envelope_error(4005, "result expired"))
    with pytest.raises(ResultExpiredError) as info:
        await client.get_task("old")
    assert info.value.code == 4005


async def test_generic_envelope_error_keeps_code_message_request_id(client, sim) -> None:
    sim.inject("t1", Fault.envelope_error(5123, "quota exhausted for today"))
    with pytest.raises(ApiError) as info:
        await client.get_task("t1")
    err = info.value
    assert type(err) is ApiError
    assert (err.code, err.message, err.request_id) == (
        5123,
        "quota exhausted for today",
        "req-sim-5123",
    )
    assert "req-sim-5123" in err.describe()


async def test_fault_times_then_recovers(client, sim) -> None:
    sim.inject("t1", Fault.html_error(500, times=1))
    with pytest.raises(ServerError):
        await client.get_task("t1")
    assert (await client.get_task("t1")).status == "queuing"


async def test_hang_times_out(sim_server) -> None:
    sim_server.sim.inject("slow", Fault.hang(30))
    async with MusicMintClient(sim_server.url, KEY, timeout=0.3) as c:
        with pytest.raises(RequestTimeoutError):
            await c.get_task("slow")


async def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with MusicMintClient(f"http://127.0.0.1:{port}", KEY, timeout=1) as c:
        with pytest.raises(NetworkError) as info:
            await c.get_task("abc")
    assert not isinstance(info.value, RequestTimeoutError)


async def test_list_tasks_pages_and_filters(client, sim) -> None:
    for i in range(5):
        sim.book.seed(f"done{i}", outcome="completed", age=3600 + i)
    for i in range(3):
        sim.book.seed(f"bad{i}", outcome="failed", age=3600 + i)
    sim.book.seed("fresh", age=0)
    page1 = await client.list_tasks(page=1, page_size=4)
    page3 = await client.list_tasks(page=3, page_size=4)
    assert page1.total == 9 and page1.page == 1 and len(page1.items) == 4
    assert [t.id for t in page3.items] == ["done4"]  # newest first; done4 is oldest
    failed = await client.list_tasks(status="failed")
    assert {t.id for t in failed.items} == {"bad0", "bad1", "bad2"}
    assert all(t.error for t in failed.items)


def test_mask_key_never_shows_the_middle() -> None:
    assert mask_key("sk-mm-abcdefghijklmnop") == "sk-mm-…mnop"
    assert "secret" not in mask_key("secretsecretsecret")
    assert repr(MusicMintClient("http://x", "sk-mm-abcdefghijkl")).count("abcdefgh") == 0


# -- byte-level cases the simulator cannot produce ---------------------------


def _client_returning(handler) -> MusicMintClient:
    return MusicMintClient("http://mock", KEY, transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("response", "error", "fragment"),
    [
        (httpx.Response(200, text="<html><body>Login</body></html>"), ProtocolError, "HTML"),
        (httpx.Response(200, content=b""), ProtocolError, "empty"),
        (httpx.Response(200, json=[1, 2]), ProtocolError, "not a MusicMint envelope"),
        (httpx.Response(200, json={"code": 0, "data": None}), ProtocolError, "no data"),
        (httpx.Response(200, content=b"\xff\xfe\x00garbage"), ProtocolError, "JSON"),
        (
            httpx.Response(
                200, stream=httpx.ByteStream(b"not gzip"), headers={"Content-Encoding": "gzip"}
            ),
            ProtocolError,
            "undecodable",
        ),
        (httpx.Response(503, content=b""), ServerError, "empty"),
        (httpx.Response(200, content=b"[" * 100_000), ProtocolError, "JSON"),
    ],
)
async def test_malformed_bytes(response: httpx.Response, error: type, fragment: str) -> None:
    async with _client_returning(lambda request: response) as c:
        with pytest.raises(error) as info:
            await c.get_task("abc")
    assert fragment in info.value.message


async def test_oversized_body_is_refused() -> None:
    big = b'{"code":0,"data":{"x":"' + b"a" * (9 * 1024 * 1024) + b'"}}'
    async with _client_returning(lambda request: httpx.Response(200, content=big)) as c:
        with pytest.raises(ProtocolError, match="larger than"):
            await c.get_task("abc")


async def test_nulls_and_wrong_types_become_none() -> None:
    data = {
        "id": None,
        "status": 3,
        "created_at": "yesterday",
        "results": [
            {"id": 5, "title": None, "duration": "long", "expire_at": True, "audio_url": ""},
            "not a clip",
        ],
        "error": ["x"],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code": 0, "message": "ok", "data": data})

    async with _client_returning(handler) as c:
        task = await c.get_task("abc")
    assert task.id == "abc"
    assert task.status is None and task.created_at is None and task.error is None
    (clip,) = task.results
    assert clip.id is None and clip.title is None and clip.duration is None
    assert clip.expire_at is None
    assert clip.audio_url == ""


async def test_unknown_status_is_kept() -> None:
    body = {"code": 0, "data": {"id": "abc", "status": "paused_by_moderator"}}
    async with _client_returning(lambda request: httpx.Response(200, json=body)) as c:
        task = await c.get_task("abc")
    assert task.status == "paused_by_moderator"
    assert not task.is_terminal


def test_simulator_used_here_is_not_shared_between_tests(sim: Simulator) -> None:
    assert sim.requests == [] and sim.faults == {}


def test_server_port_zero_picks_a_free_port() -> None:
    with SimulatorServer(Simulator()) as a, SimulatorServer(Simulator()) as b:
        assert a.port != b.port


async def test_answer_about_another_task_is_a_protocol_error() -> None:
    body = {"code": 0, "data": {"id": "OTHER", "status": "completed"}}
    async with _client_returning(lambda request: httpx.Response(200, json=body)) as c:
        with pytest.raises(ProtocolError, match="another task"):
            await c.get_task("abc")


async def test_lone_surrogates_become_replacement_characters(tmp_path) -> None:
    from tui.domain.tracked import TrackedTask
    from tui.services.store import TaskStore

    raw = b'{"code":0,"data":{"id":"abc","status":"completed","results":[{"title":"a\\ud800b"}]}}'
    async with _client_returning(lambda request: httpx.Response(200, content=raw)) as c:
        task = await c.get_task("abc")
    assert task.results[0].title == "a\ufffdb"
    TaskStore(tmp_path / "t.db").save([TrackedTask("abc", 1.0, task)])  # encodable


async def test_the_httpx_path_has_the_same_bounds() -> None:
    """With a proxy configured, reads go through httpx: its own decoder would
    inflate a whole gzip chunk at once, so the client decodes raw bytes with
    the wire's bounded decoder (memory: the body plus one slice)."""

    bomb = gzip_bomb()  # built before memory is measured

    def handler(request: httpx.Request) -> httpx.Response:
        stream = httpx.ByteStream(bomb)
        return httpx.Response(200, stream=stream, headers={"Content-Encoding": "gzip"})

    async with _client_returning(handler) as c:
        assert await peak_while_refusing_a_bomb(c) < 12 * 1024 * 1024
