"""`musicmint-tui wait` end to end against the simulator: exit codes and output."""

from __future__ import annotations

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
    status = main(["wait", "--interval", "0.05", *args])
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


def test_unknown_task_counts_as_failed(api_env, capsys) -> None:
    api_env.sim.inject("ghost", Fault.not_found())
    status, out, err = run_wait(capsys, "ghost", "--json")
    assert status == 1
    assert json.loads(out)[0]["status"] == "error"
    assert "not found" in err


def test_timeout_exits_3_naming_pending_ids(api_env, capsys) -> None:
    api_env.sim.book.seed("done", outcome="completed", age=600)
    api_env.sim.book.seed("slow", queued_for=1000, age=0)
    status, _out, err = run_wait(capsys, "done", "slow", "--timeout", "0.4")
    assert status == 3
    assert "still pending: slow" in err
    assert "done" not in err.split("still pending:")[1]


def test_wrong_key_exits_4(api_env, capsys, monkeypatch) -> None:
    monkeypatch.setenv("MUSICMINT_API_KEY", "sk-mm-not-the-key")
    status, _, err = run_wait(capsys, "abc")
    assert status == 4
    assert "authentication failed" in err
    assert "not-the-key" not in err


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
