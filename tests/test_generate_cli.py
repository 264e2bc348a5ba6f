"""`musicmint-tui generate` end to end against the simulator: checked, sent once,
tracked, and `--wait` as `wait`."""

from __future__ import annotations

import io
import json
import socket
import sys

import httpx
import pytest

from tui.cli.main import main
from tui.core import exit_codes, locations
from tui.services.store import DB_NAME, TaskStore
from tui.simulator import Simulator, SimulatorServer

from .conftest import KEY

GENERATE = "/api/v1/music/generate"
#: Poll often, and fail in seconds rather than 300 s if a regression hangs.
WAIT_FAST = ("--interval", "0.05", "--timeout", "20")


def generate_requests(sim: Simulator) -> list:
    return [r for r in sim.requests if r.path == GENERATE]


def tracked_ids() -> list[str]:
    loaded = TaskStore(locations.data_dir() / DB_NAME).load(read_only=True)
    return [record.id for record in loaded.tasks]


def pipe(data: bytes) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(data))


@pytest.fixture
def api_env(sim_server: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> SimulatorServer:
    monkeypatch.setenv("MUSICMINT_API_KEY", KEY)
    monkeypatch.setenv("MUSICMINT_BASE_URL", sim_server.url)
    return sim_server


@pytest.fixture
def fast_env(monkeypatch: pytest.MonkeyPatch):
    """A simulator on the real clock whose tasks finish in well under a second."""
    with SimulatorServer(Simulator(api_key=KEY, time_scale=0.005)) as server:
        monkeypatch.setenv("MUSICMINT_API_KEY", KEY)
        monkeypatch.setenv("MUSICMINT_BASE_URL", server.url)
        yield server


def test_prompt_json_prints_the_task_and_saves_it(api_env, capsys) -> None:
    status = main(["generate", "--prompt", "verse one\nchorus", "--tags", "lo-fi", "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    answer = json.loads(out)
    assert set(answer) == {"task_id", "status"} and answer["status"] == "queuing"
    assert [r.task_id for r in api_env.sim.generated] == [answer["task_id"]]
    sent = json.loads(generate_requests(api_env.sim)[0].body)
    assert sent == {"prompt": "verse one\nchorus", "tags": "lo-fi"}
    assert tracked_ids() == [answer["task_id"]]
    (stored,) = TaskStore(locations.data_dir() / DB_NAME).load(read_only=True).tasks
    assert stored.request == sent and stored.submitted_at  # what the dashboard will show
    assert f"task {answer['task_id']} saved to the task list" in err
    assert main(["export"]) == 0  # what the dashboard will load
    assert f'"id": "{answer["task_id"]}"' in capsys.readouterr().out


def test_plain_output_is_the_id_alone(api_env, capsys) -> None:
    status = main(["generate", "--description", "a song about rain", "--instrumental"])
    out, _ = capsys.readouterr()
    assert status == 0
    assert out.strip() == api_env.sim.generated[0].task_id
    sent = json.loads(generate_requests(api_env.sim)[0].body)
    assert sent == {"gpt_description_prompt": "a song about rain", "make_instrumental": True}


def test_lyrics_from_stdin(api_env, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", pipe("\ufeffla la\r\nsecond line\n\n".encode()))
    status = main(["generate", "--lyrics-file", "-", "--title", "Rain", "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    sent = json.loads(generate_requests(api_env.sim)[0].body)
    assert sent == {"prompt": "la la\nsecond line", "title": "Rain"}
    assert tracked_ids() == [json.loads(out)["task_id"]]


def test_lyrics_from_a_file(api_env, capsys, tmp_path) -> None:
    lyrics = tmp_path / "song.txt"
    lyrics.write_text("one\ntwo\n", encoding="utf-8")
    assert main(["generate", "--lyrics-file", str(lyrics)]) == 0
    assert json.loads(generate_requests(api_env.sim)[0].body) == {"prompt": "one\ntwo"}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\xff\xfe la", "not UTF-8 text"),
        (b"x" * 1_000_001, "more than 1,000,000 bytes"),
    ],
)
def test_unusable_lyrics_exit_2_unsent(api_env, capsys, monkeypatch, data, fragment) -> None:
    monkeypatch.setattr(sys, "stdin", pipe(data))
    assert main(["generate", "--lyrics-file", "-"]) == exit_codes.USAGE
    assert fragment in capsys.readouterr().err
    assert generate_requests(api_env.sim) == []


def test_a_missing_lyrics_file_exits_2(api_env, capsys, tmp_path) -> None:
    assert main(["generate", "--lyrics-file", str(tmp_path / "nope.txt")]) == exit_codes.USAGE
    assert "cannot read lyrics" in capsys.readouterr().err
    assert generate_requests(api_env.sim) == []


def test_every_broken_rule_is_named_and_nothing_sent(api_env, capsys) -> None:
    args = ["generate", "--description", "rain", "--tags", "pop", "--at", "5"]
    status = main([*args, "--retention-days", "40"])
    out, err = capsys.readouterr()
    assert status == exit_codes.USAGE and out == ""
    assert "--description (inspiration mode) cannot be combined with" in err
    assert "--at: only with --extend" in err
    assert "--retention-days: 40, must be 1 to 30" in err
    assert "nothing was sent" in err
    assert generate_requests(api_env.sim) == [] and tracked_ids() == []


def test_prompt_and_lyrics_file_are_exclusive(api_env, capsys) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["generate", "--prompt", "x", "--lyrics-file", "-"])
    assert ended.value.code == exit_codes.USAGE
    assert "not allowed with" in capsys.readouterr().err
    assert generate_requests(api_env.sim) == []


def test_wait_flags_need_wait(api_env, capsys) -> None:
    assert main(["generate", "--prompt", "x", "--download", "d"]) == exit_codes.USAGE
    assert "--download only with --wait" in capsys.readouterr().err
    assert generate_requests(api_env.sim) == []


def test_no_key_is_the_usual_message(sim_server, capsys, monkeypatch) -> None:
    monkeypatch.setenv("MUSICMINT_BASE_URL", sim_server.url)
    assert main(["generate", "--prompt", "x"]) == exit_codes.USAGE
    assert "API key" in capsys.readouterr().err
    assert generate_requests(sim_server.sim) == []


def test_wait_completes_with_waits_output(fast_env, capsys) -> None:
    status = main(["generate", "--prompt", "la la", "--wait", *WAIT_FAST, "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    tasks = json.loads(out)  # exactly wait's JSON: a list of result objects
    task_id = fast_env.sim.generated[0].task_id
    assert [t["id"] for t in tasks] == [task_id] and tasks[0]["status"] == "completed"
    assert f"started task {task_id}" in err and f"{task_id}: completed" in err
    assert tracked_ids() == [task_id]


def test_wait_exits_1_when_the_task_fails(fast_env, capsys) -> None:
    status = main(["generate", "--prompt", "FAILME please", "--wait", *WAIT_FAST])
    out, err = capsys.readouterr()
    assert status == exit_codes.TASK_FAILED, err
    assert "FAILME" in out and "failed" in out


def test_a_server_error_may_have_created_the_task(api_env, capsys) -> None:
    answer = httpx.post(
        api_env.url + "/_sim/faults",
        json={"kind": "generate_server_error", "status": 502},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert answer.json()["code"] == 0
    status = main(["generate", "--prompt", "x", "--wait", "--timeout", "5"])
    out, err = capsys.readouterr()
    assert status == exit_codes.MAYBE_CREATED and out == ""
    assert "the server may have created the task" in err
    assert "check the dashboard's recent tasks (shift+i imports them)" in err
    assert len(generate_requests(api_env.sim)) == 1  # never retried
    assert tracked_ids() == []


def test_a_refused_connection_was_not_sent(capsys, monkeypatch) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MUSICMINT_API_KEY", KEY)
    monkeypatch.setenv("MUSICMINT_BASE_URL", f"http://127.0.0.1:{port}")
    status = main(["generate", "--prompt", "x", "--http-timeout", "2"])
    out, err = capsys.readouterr()
    assert status == exit_codes.NOT_SENT and out == ""
    assert "was not sent" in err and "safe to run this again" in err


def test_a_refusal_by_the_server_exits_1(api_env, capsys) -> None:
    from tui.simulator import Fault

    api_env.sim.generate_fault = Fault.envelope_error(4300, "insufficient credits", status=402)
    assert main(["generate", "--prompt", "x"]) == exit_codes.TASK_FAILED
    err = capsys.readouterr().err
    assert "refused the generate request" in err and "insufficient credits" in err
    assert tracked_ids() == []


def test_a_wrong_key_exits_4(api_env, capsys, monkeypatch) -> None:
    monkeypatch.setenv("MUSICMINT_API_KEY", "sk-mm-not-the-key")
    assert main(["generate", "--prompt", "x"]) == exit_codes.AUTH
    assert "authentication failed" in capsys.readouterr().err


def test_help_lists_generate_and_its_exit_statuses(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "generate    start a generation" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    out = capsys.readouterr().out
    assert "--lyrics-file" in out and "7 not sent" in out and "shift+i" in out


async def test_a_running_dashboard_gets_the_new_task(api_env, capsys) -> None:
    import asyncio

    from tui.services.ipc import AddResult, DashboardServer

    folder = locations.data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    given: list[tuple[str, dict]] = []

    def handle(text: str) -> AddResult:
        raise AssertionError("handed over without its request")

    def handle_submitted(task_id: str, request: dict) -> AddResult:
        given.append((task_id, request))
        return AddResult(added=[task_id])

    server = DashboardServer(folder, handle, handle_submitted)
    await server.start()
    try:
        status = await asyncio.to_thread(main, ["generate", "--tags", "pop"])
    finally:
        await server.close()
    out, err = capsys.readouterr()
    assert status == 0, err
    assert given == [(out.strip(), {"tags": "pop"})]
    assert given[0][0] == api_env.sim.generated[0].task_id
    assert f"task {given[0][0]} added to the running dashboard" in err
    assert tracked_ids() == []  # the dashboard saves it, not generate


def test_extend_at_is_checked_against_a_tracked_clip(api_env, capsys) -> None:
    from tui.api.models import Clip, Task
    from tui.domain.tracked import TrackedTask

    clip = Clip("clip-abc123", None, None, "Old song", 120.0, "pop", None, 0)
    record = TrackedTask("done-1", 1.0, task=Task("done-1", "completed", None, (clip,), None))
    store = TaskStore(locations.data_dir() / DB_NAME)
    store.save([record])
    store.close()
    status = main(["generate", "--tags", "pop", "--extend", "clip-abc123", "--at", "200"])
    out, err = capsys.readouterr()
    assert status == exit_codes.USAGE and out == ""
    assert "--at: 200 s is past the clip's end (0 to 120 s)" in err
    assert generate_requests(api_env.sim) == []


def test_persona_is_sent_and_numbers_are_plain_digits(api_env, capsys) -> None:
    assert main(["generate", "--tags", "pop", "--persona", "persona-1"]) == 0
    assert json.loads(generate_requests(api_env.sim)[0].body)["persona_id"] == "persona-1"
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["generate", "--tags", "pop", "--retention-days", "1_0"])
    assert exited.value.code == exit_codes.USAGE
    assert "'1_0' is not a whole number" in capsys.readouterr().err
    assert len(generate_requests(api_env.sim)) == 1
