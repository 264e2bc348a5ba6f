"""`musicmint-tui wait` end to end against the simulator: exit codes and output."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from tui.cli.main import main
from tui.simulator import Fault, Simulator, SimulatorServer

from .conftest import KEY, SPEC_CLIP_FIELDS


@pytest.fixture
def api_env(sim_server: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> SimulatorServer:
    monkeypatch.setenv("MUSICMINT_API_KEY", KEY)
    monkeypatch.setenv("MUSICMINT_BASE_URL", sim_server.url)
    return sim_server


def run_wait(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    # A deadline, so a regression that polls forever fails in seconds, not 300 s.
    status = main(["wait", "--interval", "0.05", "--timeout", "10", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_all_completed_exits_0_with_spec_json(api_env, capsys) -> None:
    book = api_env.sim.book
    book.seed("ok1", outcome="completed", expiries=("week",), age=600)
    book.seed("ok2", outcome="completed", expiries=("week", "never"), age=600)
    status, out, err = run_wait(capsys, "ok1", "ok2", "--json")
    assert status == 0, err
    tasks = json.loads(out)
    assert [t["id"] for t in tasks] == ["ok1", "ok2"]
    assert all(t["status"] == "completed" for t in tasks)
    assert len(tasks[1]["results"]) == 2
    for task in tasks:
        assert set(task) >= {"id", "status", "created_at", "results"}
        for clip in task["results"]:
            assert set(clip) == set(SPEC_CLIP_FIELDS)
    assert "ok1: completed" in err


def test_any_failed_exits_1_and_shows_the_error(api_env, capsys) -> None:
    api_env.sim.book.seed("ok1", outcome="completed", age=600)
    plan = api_env.sim.book.seed("bad1", outcome="failed", age=600)
    status, out, err = run_wait(capsys, "ok1", "bad1")
    assert status == 1
    assert plan.error in out
    assert "bad1: failed" in err
    assert out.splitlines()[0].split()[:2] == ["TASK", "STATUS"]


@pytest.mark.parametrize(
    "fault",
    [Fault.not_found(), Fault.envelope_error(4004, "no such task")],
    ids=["http-404", "code-4004"],
)
def test_unknown_task_is_not_found_as_in_the_dashboard(api_env, capsys, fault: Fault) -> None:
    api_env.sim.inject("ghost", fault)
    api_env.sim.inject("ghost2", fault)
    status, out, err = run_wait(capsys, "ghost", "--json")
    assert status == 1
    task = json.loads(out)[0]
    assert task["status"] == "not found"  # the dashboard's word, not "error"
    assert "4004" in task["error"]
    assert "ghost: not found: " in err
    status, out, _ = run_wait(capsys, "ghost2")
    assert status == 1
    assert out.splitlines()[1].split("  ")[:2] == ["ghost2", "not found"]


def test_another_api_error_is_error(api_env, capsys) -> None:
    api_env.sim.inject("odd", Fault.envelope_error(4001, "prompt too long"))
    status, out, err = run_wait(capsys, "odd", "--json")
    assert status == 1
    assert json.loads(out) == [
        {
            "id": "odd",
            "status": "error",
            "error": "prompt too long (code 4001, HTTP 200, request req-sim-4001)",
        }
    ]
    assert "odd: error: prompt too long" in err


def test_help_explains_every_status(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["wait", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for status in ("completed", "failed", "not found", "error", "queuing, processing", "pending"):
        assert f"\n  {status}" in text, status
    assert "1 any failed, not found, error" in text


def test_timeout_exits_3_naming_pending_ids(api_env, capsys) -> None:
    api_env.sim.book.seed("done", outcome="completed", age=600)
    api_env.sim.book.seed("slow", queued_for=1000, age=0)
    status, _out, err = run_wait(capsys, "done", "slow", "--timeout", "0.4")
    assert status == 3
    assert "still pending: slow" in err
    assert "done" not in err.split("still pending:")[1]


def test_wrong_key_exits_4(api_env, capsys, monkeypatch) -> None:
    monkeypatch.setenv("MUSICMINT_API_KEY", "sk-mm-not-the-key")
    status, out, err = run_wait(capsys, "abc")
    assert status == 4
    assert "authentication failed" in err
    assert "not-the-key" not in err
    assert out == ""


def test_rate_limit_pauses_then_completes(api_env, capsys) -> None:
    api_env.sim.book.seed("ok1", outcome="completed", age=600)
    api_env.sim.inject("ok1", Fault.rate_limited("0", times=1))
    api_env.sim.inject("flaky", Fault.html_error(500, times=1))
    api_env.sim.book.seed("flaky", outcome="completed", age=600)
    status, _, err = run_wait(capsys, "ok1", "flaky")
    assert status == 0, err
    assert "rate limited" in err
    assert "retrying" in err


def test_invalid_id_exits_2_without_a_request(api_env, capsys) -> None:
    status, _, err = run_wait(capsys, "ok", "../../etc/passwd")
    assert status == 2
    assert "path" in err
    assert api_env.sim.requests == []


def test_server_text_cannot_reach_the_terminal(api_env, capsys) -> None:
    api_env.sim.book.override(
        "evil", {"id": "evil", "status": "failed", "error": "boom\x1b]52;c;aGk=\x07\x1b[2J"}
    )
    status, out, err = run_wait(capsys, "evil")
    assert status == 1
    assert "\x1b" not in out + err
    assert "\\x1b]52" in out


def test_progress_with_a_real_clock(monkeypatch, capsys) -> None:
    with SimulatorServer(Simulator(api_key=KEY, time_scale=0.005)) as server:
        monkeypatch.setenv("MUSICMINT_API_KEY", KEY)
        monkeypatch.setenv("MUSICMINT_BASE_URL", server.url)
        status, _out, err = run_wait(capsys, "live1", "live2", "live3")
    assert status in (0, 1)
    for task_id in ("live1", "live2", "live3"):
        assert f"{task_id}: queuing" in err
        assert f"{task_id}: processing" in err


def test_console_script_and_module_help() -> None:
    for cmd in (["musicmint-tui", "--help"], [sys.executable, "-m", "tui", "--help"]):
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0
        for sub in ("simulate", "wait", "config", "--demo"):
            assert sub in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--timeout", "nan"], "--timeout must be a positive number"),
        (["--timeout", "inf"], "--timeout must be a positive number"),
        (["--http-timeout", "-1"], "option --http-timeout"),
        (["--interval", "inf"], "option --interval"),
    ],
)
def test_bad_numbers_exit_2(api_env, capsys, args: list[str], fragment: str) -> None:
    status = main(["wait", "abc", *args])
    assert status == 2
    assert fragment in capsys.readouterr().err
    assert api_env.sim.requests == []


def test_closed_pipe_is_not_a_traceback(api_env) -> None:
    api_env.sim.book.seed("p1", outcome="completed", age=600)
    env = {**__import__("os").environ, "MUSICMINT_API_KEY": KEY, "MUSICMINT_BASE_URL": api_env.url}
    script = f"{sys.executable} -m tui wait p1 --json --interval 0.05 | head -c 1"
    result = subprocess.run(script, shell=True, capture_output=True, text=True, env=env, timeout=60)
    assert "Traceback" not in result.stderr


def test_key_echoed_by_the_server_is_masked(api_env, capsys, monkeypatch) -> None:
    api_env.sim.inject("k1", Fault.envelope_error(1003, f"key {KEY} is disabled\x1b[2J"))
    status, out, err = run_wait(capsys, "k1", "--json")
    assert status == 4
    assert KEY not in out + err and "\x1b" not in out + err
    assert "sk-mm-…0001" in err


class _Terminal(io.StringIO):
    """Stdin as a keyboard: ``wait`` must not sit reading it unasked."""

    def isatty(self) -> bool:
        return True


class _Endless(io.RawIOBase):
    """A pipe that never ends (``yes | musicmint-tui wait``); counts what was read."""

    def __init__(self) -> None:
        self.given = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        buffer[:] = b"y " * (len(buffer) // 2) + b" " * (len(buffer) % 2)
        self.given += len(buffer)
        return len(buffer)


def pipe(text: str | bytes) -> io.TextIOWrapper:
    """Stdin as a pipe holding ``text``."""
    return io.TextIOWrapper(io.BytesIO(text.encode() if isinstance(text, str) else text))


def seed_completed(sim_server: SimulatorServer, *ids: str) -> None:
    for task_id in ids:
        sim_server.sim.book.seed(task_id, outcome="completed", age=600)


def test_dash_reads_ids_from_stdin_in_place(api_env, capsys, monkeypatch) -> None:
    seed_completed(api_env, "a1", "s1", "s2", "b1")
    monkeypatch.setattr(sys, "stdin", pipe("\ufeffs1, s2\n;a1\n"))
    status, out, err = run_wait(capsys, "a1", "-", "b1", "--json")
    assert status == 0, err
    # Stdin's IDs stand where '-' stands; a1 twice is polled once.
    assert [t["id"] for t in json.loads(out)] == ["a1", "s1", "s2", "b1"]
    assert {r.task_id for r in api_env.sim.task_requests()} == {"a1", "s1", "s2", "b1"}


def test_a_pipe_is_read_when_no_ids_are_given(api_env, capsys, monkeypatch) -> None:
    seed_completed(api_env, "p1", "p2")
    monkeypatch.setattr(sys, "stdin", pipe("p1\np2\n"))
    status, out, err = run_wait(capsys, "--json")
    assert status == 0, err
    assert [t["id"] for t in json.loads(out)] == ["p1", "p2"]


def test_invalid_stdin_tokens_are_named_and_not_polled(api_env, capsys, monkeypatch) -> None:
    seed_completed(api_env, "good1")
    monkeypatch.setattr(sys, "stdin", pipe("good1 ../etc/passwd bad\x1b[2Jid\n"))
    status, out, err = run_wait(capsys, "-")
    assert status == 1  # what was skipped did not complete
    assert "stdin: skipped '../etc/passwd': contains a path character" in err
    assert "stdin: skipped 'bad\\x1b[2Jid': contains a control character (U+001B)" in err
    assert "\x1b" not in err
    assert {r.task_id for r in api_env.sim.task_requests()} == {"good1"}
    assert "good1" in out


def test_invalid_stdin_tokens_are_listed_up_to_ten(api_env, capsys, monkeypatch) -> None:
    seed_completed(api_env, "good1")
    monkeypatch.setattr(sys, "stdin", pipe("good1 " + " ".join(f"x{i}!" for i in range(25))))
    status, _, err = run_wait(capsys, "-")
    assert status == 1
    assert err.count("stdin: skipped 'x") == 10
    assert "stdin: skipped 15 more invalid token(s)" in err


@pytest.mark.parametrize(
    ("stdin", "args", "fragment"),
    [
        (_Terminal(), [], "no task IDs given: pass them as arguments, or '-' to read stdin"),
        (pipe(""), [], "stdin holds no task IDs"),
        (pipe("  \n,;\n"), ["-"], "stdin holds no task IDs"),
        (pipe("../x ?"), ["-"], "stdin holds no valid task IDs"),
        (pipe("ok ../x"), ["../x", "-"], "invalid task ID ../x"),  # arguments stay strict
        (pipe(" ".join(f"t{i}" for i in range(10_001))), ["-"], "10,001 task IDs given"),
        (pipe("x" * 1_000_001), ["-"], "stdin holds more than 1,000,000 bytes"),
    ],
    ids=["terminal", "empty-pipe", "separators", "all-invalid", "bad-arg", "too-many", "too-big"],
)
def test_unusable_stdin_exits_2_without_a_request(
    api_env, capsys, monkeypatch, stdin, args: list[str], fragment: str
) -> None:
    monkeypatch.setattr(sys, "stdin", stdin)
    status, out, err = run_wait(capsys, *args)
    assert status == 2
    assert fragment in err
    assert out == ""
    assert api_env.sim.requests == []


def test_an_endless_pipe_is_read_only_up_to_the_bound(api_env, capsys, monkeypatch) -> None:
    from tui.cli.stdin_ids import MAX_STDIN_BYTES

    endless = _Endless()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(endless)))
    status, _, err = run_wait(capsys)
    assert status == 2
    assert "stdin holds more than 1,000,000 bytes" in err
    assert endless.given <= MAX_STDIN_BYTES + 2 * io.DEFAULT_BUFFER_SIZE
    assert api_env.sim.requests == []


@pytest.mark.parametrize("dash", ["-", ""], ids=["dash", "bare-pipe"])
def test_echo_id_into_wait_through_a_real_pipe(api_env, dash: str) -> None:
    """The issue's own command: `echo ID | musicmint-tui wait -`."""
    seed_completed(api_env, "piped1")
    env = {**__import__("os").environ, "MUSICMINT_API_KEY": KEY, "MUSICMINT_BASE_URL": api_env.url}
    script = f"echo piped1 | {sys.executable} -m tui wait {dash} --json --interval 0.05"
    result = subprocess.run(script, shell=True, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert [t["id"] for t in json.loads(result.stdout)] == ["piped1"]


@pytest.mark.parametrize("refusal", ["http-401", "code-1003", "code-1004"])
@pytest.mark.parametrize("output", [[], ["--json"]], ids=["table", "json"])
def test_a_refused_key_prints_nothing_on_stdout(
    api_env, capsys, monkeypatch, tmp_path, refusal: str, output: list[str]
) -> None:
    """No results table (nor JSON of tasks nobody answered for) reaches a pipe:
    only stderr says why, and the exit status is 4."""
    sim = api_env.sim
    seed_completed(api_env, "done1")  # answered before the refusal, yet not printed
    if refusal == "http-401":
        monkeypatch.setenv("MUSICMINT_API_KEY", "sk-mm-not-the-key")
    elif refusal == "code-1003":
        sim.inject("k1", Fault.envelope_error(1003, "API key is disabled", status=403))
    else:
        sim.disabled_keys[KEY] = 1004
    music = tmp_path / "music"
    status, out, err = run_wait(capsys, "done1", "k1", *output, "--download", str(music))
    assert status == 4
    assert out == ""
    assert "authentication failed" in err
    assert not music.exists()  # nothing downloaded with a run that failed
