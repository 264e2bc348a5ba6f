"""One dashboard, many terminals: `musicmint-tui add` and the dashboard's socket."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tui.cli import add as add_cli
from tui.cli.main import main
from tui.core import locations
from tui.core.lock import DataLock
from tui.services import ipc
from tui.services.ipc import AddResult, DashboardServer, IpcError, NoDashboard

from .conftest import KEY
from .harness import SIZE, loaded, make_app, notifications, screen_text, wait_for

ROOT = Path(__file__).resolve().parent.parent


async def run_cli(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    """`python -m tui ARGS` in another process, without blocking the app's loop."""
    env = {**os.environ, "MUSICMINT_API_KEY": KEY}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tui",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin or b""), 60)
    return proc.returncode or 0, out.decode(), err.decode()


def raw_request(path: Path, data: bytes, *, close_write: bool = True) -> bytes:
    """Send ``data`` as it is; return the whole reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        with ipc.address(path) as where:  # tmp paths can be too long for sun_path
            sock.connect(where)
        sock.sendall(data)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


async def test_add_from_another_process_shows_the_rows(sim_server, clock) -> None:
    folder = locations.data_dir()  # where the subprocess looks (XDG_DATA_HOME)
    app = make_app(sim_server, folder, clock, ids=["known1"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.ipc is not None)
        sock = folder / ipc.SOCKET_NAME
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
        status, out, err = await run_cli(
            "add", "fresh1", "known1", "bad/id", "https://musicmint.example/task/fresh2"
        )
        assert status == 0, err
        assert out.strip() == "added 2, 1 already tracked, 1 invalid (in the running dashboard)"
        assert "skipped 'bad/id'" in err
        # The rows are drawn before the reply is sent: on screen within a second.
        await wait_for(
            pilot, lambda: "fresh1" in screen_text(app) and "fresh2" in screen_text(app), 1.0
        )
        # `add` reads the URL itself and hands over plain IDs.
        assert notifications(app)[-1] == "From another terminal: Added 2 tasks; 1 already tracked."
    assert not sock.exists()  # removed on exit


async def test_dashboard_command_hands_ids_to_the_running_one(sim_server, clock) -> None:
    folder = locations.data_dir()
    app = make_app(sim_server, folder, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.ipc is not None)
        with DataLock(folder):  # as the running dashboard holds it
            status, out, err = await run_cli("--base-url", sim_server.url, "handed1")
        assert status == 0, err
        assert out.strip() == "added 1 (in the running dashboard)"
        await wait_for(pilot, lambda: "handed1" in screen_text(app), 1.0)


async def test_hundred_concurrent_adds_lose_no_id(sim_server, clock) -> None:
    app = make_app(sim_server, locations.data_dir(), clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.ipc is not None)
        path = app.ipc.path
        ids = [f"many{i:03}" for i in range(100)]
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(len(ids)) as pool:
            results = await asyncio.gather(
                *(loop.run_in_executor(pool, ipc.request_add, path, i) for i in ids)
            )
        assert [r.added for r in results] == [[i] for i in ids]
        assert set(ids) <= set(app.records)
        await wait_for(pilot, lambda: "Tasks (100)" in screen_text(app), 1.0)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"not json\n", "not JSON"),
        (b"[1, 2]\n", "not a JSON object"),
        (b'{"v": 2, "op": "add", "text": "a"}\n', "unsupported protocol version"),
        (b'{"v": true, "op": "add", "text": "a"}\n', "unsupported protocol version"),
        (b'{"v": 1, "op": "remove", "text": "a"}\n', "unknown op"),
        (b'{"v": 1, "op": "add", "text": ["a"]}\n', "exactly"),
        (b'{"v": 1, "op": "add", "text": "a", "more": 1}\n', "exactly"),
        (b'{"v": 1, "op": "add", "text": "a", "request": ["x"]}\n', "must be a JSON object"),
        (b'{"v": 1, "op": "add", "text": "a b", "request": {}}\n', "exactly one task ID"),
        (b'{"v": 1, "op": "add", "text": "https://x/task/a", "request": {}}\n', "exactly one"),
        (b'{"v": 1, "op": "add", "text": "a"}', "end with a newline"),
        (b'{"v": 1, "op": "add", "text": "' + b"a" * 100_000 + b'"}\n', "larger than"),
        (b"\xff\xfe\n", "not JSON"),
    ],
    ids=[
        "not-json",
        "not-object",
        "version-2",
        "version-bool",
        "unknown-op",
        "text-not-string",
        "extra-key",
        "request-not-object",
        "request-with-two-ids",
        "request-with-a-url",
        "no-newline",
        "oversized",
        "not-utf8",
    ],
)
async def test_bad_requests_are_refused_and_the_dashboard_carries_on(
    sim_server, clock, data: bytes, error: str
) -> None:
    app = make_app(sim_server, locations.data_dir(), clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.ipc is not None)
        path = app.ipc.path
        reply = await asyncio.to_thread(raw_request, path, data)
        with pytest.raises(IpcError, match=error):
            ipc.parse_reply(reply)
        assert app.records == {}  # nothing of it was tracked
        result = await asyncio.to_thread(ipc.request_add, path, "after1")
        assert result.added == ["after1"]
        await wait_for(pilot, lambda: "after1" in screen_text(app))


async def test_a_silent_client_does_not_block_others(sim_server, clock) -> None:
    app = make_app(sim_server, locations.data_dir(), clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.ipc is not None)
        path = app.ipc.path
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as slow:
            with ipc.address(path) as where:
                slow.connect(where)
            slow.sendall(b'{"v": 1, "op": "add", "te')  # and then nothing
            result = await asyncio.to_thread(ipc.request_add, path, "other1")
            assert result.added == ["other1"]
            slow.settimeout(10)
            reply = await asyncio.to_thread(slow.recv, 65536)  # dropped after READ_TIMEOUT
        with pytest.raises(IpcError, match="no complete request"):
            ipc.parse_reply(reply)


def stale_socket(path: Path) -> None:
    """What a killed dashboard leaves: a socket file nobody listens on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock, ipc.address(path) as where:
        sock.bind(where)
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


async def test_a_crashed_dashboards_socket_does_not_block_the_next(sim_server, clock) -> None:
    folder = locations.data_dir()
    stale_socket(folder / ipc.SOCKET_NAME)
    with pytest.raises(NoDashboard):
        ipc.probe(folder / ipc.SOCKET_NAME)
    app = make_app(sim_server, folder, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.ipc is not None)
        status, out, err = await run_cli("add", "after-crash")
        assert status == 0, err
        assert "in the running dashboard" in out
        await wait_for(pilot, lambda: "after-crash" in screen_text(app), 1.0)


async def test_a_live_listener_is_not_replaced(tmp_path) -> None:
    def handle(text: str) -> AddResult:
        return AddResult(added=[text])

    first = DashboardServer(tmp_path, handle)
    await first.start()
    try:
        with pytest.raises(IpcError, match="already listens"):
            await DashboardServer(tmp_path, handle).start()
        assert (await asyncio.to_thread(ipc.request_add, first.path, "x")).added == ["x"]
    finally:
        await first.close()
    assert not first.path.exists()


async def test_a_long_folder_path_still_works(tmp_path) -> None:
    folder = tmp_path / ("long-" * 30)
    folder.mkdir()
    server = DashboardServer(folder, lambda text: AddResult(added=text.split()))
    await server.start()
    try:
        result = await asyncio.to_thread(ipc.request_add, server.path, "a b")
        assert result.added == ["a", "b"]
    finally:
        await server.close()


async def test_add_without_a_dashboard_saves_for_the_next(sim_server, clock, capsys) -> None:
    assert main(["add", "later1", "later2", "later1"]) == 0
    assert capsys.readouterr().out.strip() == (
        "added 2 (saved to the task list; the dashboard polls them when it starts)"
    )
    assert main(["add", "later2"]) == 0
    assert "added 0, 1 already tracked" in capsys.readouterr().out
    assert main(["export"]) == 0
    assert '"id": "later1"' in capsys.readouterr().out  # export reads it too
    app = make_app(sim_server, locations.data_dir(), clock)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert list(app.records) == ["later1", "later2"]
        await wait_for(pilot, lambda: app.records["later1"].task is not None)  # polled
        status, out, _ = await run_cli("export")  # while the dashboard runs
        assert status == 0 and '"id": "later2"' in out


def test_add_reads_stdin_like_the_add_dialog(capsys, monkeypatch) -> None:
    import io

    pasted = '{"code": 0, "data": {"task_id": "from-json"}}\nhttps://x.example/task/from-url'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(pasted.encode())))
    assert main(["add"]) == 0
    assert capsys.readouterr().out.startswith("added 2 ")
    assert main(["export"]) == 0
    out = capsys.readouterr().out
    assert '"id": "from-json"' in out and '"id": "from-url"' in out


def test_add_with_nothing_valid_is_a_usage_error(capsys) -> None:
    assert main(["add", "bad/one"]) == 2
    err = capsys.readouterr().err
    assert "skipped 'bad/one'" in err and "no valid task IDs" in err


def test_a_dashboard_that_does_not_answer_is_said(capsys, monkeypatch) -> None:
    monkeypatch.setattr(add_cli, "STARTING_GRACE", 0.2)
    with DataLock(locations.data_dir()):  # held, but nobody listens
        assert main(["add", "x1"]) == 5
    assert "does not answer on" in capsys.readouterr().err


def test_socket_protocol_round_trip() -> None:
    assert ipc.parse_request(ipc.encode_request("a\nb")) == ipc.AddRequest("a\nb")
    body = {"prompt": "la\nla", "make_instrumental": True}
    assert ipc.parse_request(ipc.encode_request("gen1", body)) == ipc.AddRequest("gen1", body)
    reply = ipc._result_reply(AddResult(["a"], ["b"], [("c/d", "why")]))
    assert ipc.parse_reply(reply) == AddResult(["a"], ["b"], [("c/d", "why")])
    with pytest.raises(IpcError, match="send fewer"):
        ipc.request_add(Path("/nonexistent.sock"), "a" * ipc.MAX_REQUEST)


def test_help_lists_add() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "add         track task IDs" in result.stdout


@pytest.mark.skipif(not hasattr(socket, "SO_PEERCRED"), reason="SO_PEERCRED is Linux's")
def test_the_peer_user_is_known_on_linux() -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        assert ipc._peer_uid(left) == os.getuid()  # another user's would be refused


async def test_another_users_connection_is_refused(tmp_path, monkeypatch) -> None:
    server = DashboardServer(tmp_path, lambda text: AddResult(added=[text]))
    await server.start()
    monkeypatch.setattr(ipc, "_peer_uid", lambda sock: os.getuid() + 1)
    try:
        with pytest.raises(IpcError, match="refused: another user"):
            await asyncio.to_thread(ipc.request_add, server.path, "x")
    finally:
        await server.close()


def test_a_starting_dashboard_waits_out_a_brief_add(tmp_path) -> None:
    import threading

    from tui.cli.launch import take_lock
    from tui.core.lock import FolderInUse

    writer = DataLock(tmp_path)  # as `add` holds it while it writes
    writer.acquire()
    threading.Timer(0.2, writer.release).start()
    dashboard = DataLock(tmp_path)
    take_lock(dashboard, grace=10)
    try:
        with pytest.raises(FolderInUse):
            take_lock(DataLock(tmp_path), grace=0)  # a second dashboard still may not
    finally:
        dashboard.release()


async def test_a_second_dashboard_gives_up_at_once_when_one_answers(tmp_path) -> None:
    from tui.cli.launch import take_lock
    from tui.core.lock import FolderInUse

    server = DashboardServer(tmp_path, lambda text: AddResult())
    await server.start()
    try:
        started = time.monotonic()
        with DataLock(tmp_path), pytest.raises(FolderInUse):
            await asyncio.to_thread(take_lock, DataLock(tmp_path), 60)
        assert time.monotonic() - started < 10  # it did not wait out the 60 s
    finally:
        await server.close()


async def test_a_generated_task_arrives_with_its_request(sim_server, clock) -> None:
    sim_server.sim.book.seed("gen1", queued_for=1000)
    app = make_app(sim_server, locations.data_dir(), clock, ids=["known1"])
    body = {"gpt_description_prompt": "a song about rain", "evil": "[bold]x"}
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.ipc is not None)
        path = app.ipc.path
        result = await asyncio.to_thread(ipc.request_add, path, "gen1", request=body)
        assert result == AddResult(added=["gen1"])
        record = app.records["gen1"]
        assert record.request == {"gpt_description_prompt": "a song about rain"}
        assert record.submitted_at == clock()
        await wait_for(pilot, lambda: "a song about rain" in screen_text(app))
        await wait_for(pilot, lambda: app.records["gen1"].status == "queuing")
        # Handed over as a plain ID first (an older generate), then with the request:
        result = await asyncio.to_thread(ipc.request_add, path, "known1", request=body)
        assert result == AddResult(duplicates=["known1"])
        assert app.records["known1"].request == record.request


def test_an_older_dashboard_gets_the_generated_id_alone(tmp_path, monkeypatch) -> None:
    sent: list[dict | None] = []

    def older(path, text, timeout=10.0, request=None):
        sent.append(request)
        if request is not None:
            raise ipc.Refused('the dashboard refused: an add request has exactly "v", "op"')
        return AddResult(added=[text])

    monkeypatch.setattr(add_cli, "request_add", older)
    result, to_dashboard = add_cli.add_ids(["gen1"], tmp_path, request={"tags": "pop"})
    assert result == AddResult(added=["gen1"]) and to_dashboard
    assert sent == [{"tags": "pop"}, None]


def test_without_a_dashboard_the_request_is_stored_with_the_task(tmp_path) -> None:
    from tui.services.store import DB_NAME, TaskStore

    add_cli.add_ids(["plain1"], tmp_path)
    result, to_dashboard = add_cli.add_ids(["gen1"], tmp_path, request={"tags": "pop", "x": 1})
    assert result.added == ["gen1"] and not to_dashboard
    add_cli.add_ids(["plain1"], tmp_path, request={"title": "Late"})  # attached once
    add_cli.add_ids(["plain1"], tmp_path, request={"title": "Later"})
    tasks = TaskStore(tmp_path / DB_NAME).load(read_only=True).tasks
    by_id = {t.id: t for t in tasks}
    assert [t.id for t in tasks] == ["plain1", "gen1"]
    assert by_id["gen1"].request == {"tags": "pop"} and by_id["gen1"].submitted_at
    assert by_id["plain1"].request == {"title": "Late"}
