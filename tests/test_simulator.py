"""The simulator speaks the spec's exact envelope and serves real media."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tui.simulator import Simulator, SimulatorServer

from .conftest import KEY, SPEC_CLIP_FIELDS

HEADERS = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}


def post(server: SimulatorServer, path: str, body: object = None, **kw) -> httpx.Response:
    return httpx.post(server.url + path, json={} if body is None else body, headers=HEADERS, **kw)


def test_envelope_shapes_match_the_spec(sim_server, clock) -> None:
    book = sim_server.sim.book
    book.seed("q", queued_for=100)
    book.seed("c", outcome="completed", age=1000)
    book.seed("f", outcome="failed", age=1000)
    queued = post(sim_server, "/api/v1/task/q").json()
    assert set(queued) == {"code", "message", "request_id", "data"}
    assert (queued["code"], queued["message"]) == (0, "ok")
    assert queued["request_id"].startswith("req-")
    assert set(queued["data"]) == {"id", "status", "created_at"}
    completed = post(sim_server, "/api/v1/task/c").json()["data"]
    assert set(completed) == {"id", "status", "created_at", "results"}
    assert set(SPEC_CLIP_FIELDS) == set(completed["results"][0])
    failed = post(sim_server, "/api/v1/task/f").json()["data"]
    assert set(failed) == {"id", "status", "created_at", "error"}


def test_same_id_same_fate() -> None:
    a, b = Simulator(time_scale=1), Simulator(time_scale=1)
    ids = [f"task{i}" for i in range(60)]
    outcomes = [a.book.plan(i).outcome for i in ids]
    assert outcomes == [b.book.plan(i).outcome for i in ids]
    assert 0 < outcomes.count("failed") < 30
    durations = [a.book.plan(i).done_at - a.book.plan(i).created for i in ids]
    assert min(durations) >= 18 and max(durations) <= 60


def test_every_expiry_kind_occurs() -> None:
    sim = Simulator()
    kinds = {kind for i in range(80) for kind in sim.book.plan(f"t{i}").expiries}
    assert kinds == {"week", "minutes", "never", "expired"}


def test_media_files_are_real(sim_server) -> None:
    sim_server.sim.book.seed("c", outcome="completed", age=1000)
    clip = post(sim_server, "/api/v1/task/c").json()["data"]["results"][0]
    audio = httpx.get(clip["audio_url"])
    image = httpx.get(clip["image_url"])
    assert audio.headers["content-type"] == "audio/mpeg"
    assert audio.content[:2] == b"\xff\xf3" or audio.content[:3] == b"ID3"
    assert image.headers["content-type"] == "image/jpeg"
    assert image.content[:3] == b"\xff\xd8\xff"


def test_control_endpoint_injects_faults(sim_server) -> None:
    r = post(sim_server, "/_sim/faults", {"task_id": "x", "kind": "rate_limit", "retry_after": "9"})
    assert r.json()["code"] == 0
    limited = post(sim_server, "/api/v1/task/x")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "9"
    post(sim_server, "/_sim/faults", {"kind": "clear"})
    assert post(sim_server, "/api/v1/task/x").status_code == 200
    assert post(sim_server, "/_sim/faults", {"kind": "nonsense"}).status_code == 400


def test_invalid_id_in_path_is_refused(sim_server) -> None:
    r = post(sim_server, "/api/v1/task/a%20b")
    assert r.status_code == 400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_simulate_command_answers_the_spec_curl() -> None:
    """The spec's own curl example, pointed at `musicmint-tui simulate`."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "simulate", "--port", str(port), "--key", "k"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stderr is not None
        assert f"127.0.0.1:{port}" in proc.stderr.readline()
        base = f"http://127.0.0.1:{port}/api/v1/task/64f3a1b2c8d9e0f1a2b3c4d5"
        curl = [
            "curl",
            "-s",
            "-X",
            "POST",
            base,
            "-H",
            "Content-Type: application/json",
            "-d",
            "{}",
        ]
        ok = subprocess.run(
            [*curl, "-H", "Authorization: Bearer k"], capture_output=True, timeout=10
        )
        body = json.loads(ok.stdout)
        assert body["code"] == 0 and body["data"]["id"] == "64f3a1b2c8d9e0f1a2b3c4d5"
        assert body["data"]["status"] == "queuing"
        bad = subprocess.run(
            [*curl, "-H", "Authorization: Bearer wrong", "-o", "/dev/null", "-w", "%{http_code}"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert bad.stdout == "401"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_stop_and_restart_on_the_same_port() -> None:
    first = SimulatorServer(Simulator()).start()
    port = first.port
    first.stop()
    deadline = time.monotonic() + 5
    while True:
        try:
            second = SimulatorServer(Simulator(), port=port).start()
            break
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail("port not reusable")
            time.sleep(0.05)
    second.stop()


def test_bad_requests_get_clear_answers(sim_server) -> None:
    assert httpx.get(sim_server.url + "/api/v1/task/abc").status_code == 405
    bad_times = post(sim_server, "/_sim/faults", {"task_id": "x", "kind": "hang", "times": "x"})
    assert bad_times.status_code == 400
    assert post(sim_server, "/api/v1/task/x").status_code == 200  # no poisoned fault left
    # httpx refuses to send a bad Content-Length, so speak HTTP by hand.
    request = b"POST /api/v1/task/abc HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"
    with socket.create_connection(("127.0.0.1", sim_server.port), timeout=5) as conn:
        conn.sendall(request)
        assert conn.recv(100).startswith(b"HTTP/1.1 400")


def test_simulate_rejects_an_impossible_port() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui", "simulate", "--port", "99999"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_simulate_prints_the_command_that_points_the_dashboard_at_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The printed command, pasted as it is, reaches the simulator with a key it
    accepts, and any ID is a task there."""
    import shlex
    import signal

    from tui.cli.main import main

    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "simulate", "--port", "0", "--key", "sk-mm sim'key"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stderr is not None
        banner = [proc.stderr.readline() for _ in range(3)]
        assert "any valid task ID works" in banner[0]
        assert banner[1] == "Point the dashboard at it:\n"
        *assignments, command = shlex.split(banner[2])
        assert command == "musicmint-tui"
        env = dict(a.split("=", 1) for a in assignments)
        assert set(env) == {"MUSICMINT_BASE_URL", "MUSICMINT_API_KEY"}
        assert env["MUSICMINT_API_KEY"] == "sk-mm sim'key"
        assert env["MUSICMINT_BASE_URL"].startswith("http://127.0.0.1:")
        assert not env["MUSICMINT_BASE_URL"].endswith(":0")  # the port it really got
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        # An ID nobody made: still a task, queuing, and the key is accepted
        # (a refused key would exit 4 and print nothing).
        status = main(["wait", "made-up-id-42", "--json", "--timeout", "0.3", "--interval", "0.05"])
        assert status == 3
        assert json.loads(capsys.readouterr().out)[0]["status"] == "queuing"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


#: What each fault kind is documented to answer (`simulate --help`).
FAULT_ANSWERS = {
    "rate_limit": (429, "application/json"),
    "server_error": (500, "text/html"),
    "truncated": (200, "application/json"),
    "envelope": (200, "application/json"),
    "not_found": (404, "application/json"),
    "hang": (200, "application/json"),
}


def test_simulate_help_says_any_id_works_and_how_faults_are_injected(sim_server, capsys) -> None:
    from tui.cli.main import main

    with pytest.raises(SystemExit) as exit_:
        main(["simulate", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "Any valid task ID works" in text
    assert "POST /_sim/faults, with the same key" in text
    table = text.split("    kind          optional fields", 1)[1].split('\n  "times"', 1)[0]
    kinds = [line.split()[0] for line in table.strip().splitlines()[1:]]
    assert kinds == [*FAULT_ANSWERS, "clear"]
    for kind, (status, content_type) in FAULT_ANSWERS.items():
        task_id = f"fault-{kind.replace('_', '-')}"
        spec = {"task_id": task_id, "kind": kind, **({"seconds": 0.01} if kind == "hang" else {})}
        assert post(sim_server, "/_sim/faults", spec).json()["code"] == 0
        answer = post(sim_server, f"/api/v1/task/{task_id}")
        assert (answer.status_code, answer.headers["content-type"]) == (status, content_type), kind
    assert post(sim_server, "/api/v1/task/fault-rate-limit").headers["retry-after"] == "2"
    assert post(sim_server, "/api/v1/task/fault-envelope").json()["code"] == 5000
    assert post(sim_server, "/api/v1/task/fault-not-found").json()["code"] == 4004
    with pytest.raises(json.JSONDecodeError):
        post(sim_server, "/api/v1/task/fault-truncated").json()
    post(sim_server, "/_sim/faults", {"kind": "clear"})
    assert post(sim_server, "/api/v1/task/fault-not-found").status_code == 200
    # The help's own example: "times": 3 is three answers, then the normal one.
    example = json.loads(text.split("-d '", 1)[1].split("'", 1)[0])
    assert post(sim_server, "/_sim/faults", example).json()["code"] == 0
    answers = [post(sim_server, f"/api/v1/task/{example['task_id']}") for _ in range(4)]
    assert [a.status_code for a in answers] == [429, 429, 429, 200]


def test_simulate_help_names_the_generate_faults(capsys) -> None:
    from tui.cli.main import main
    from tui.simulator.faults import GENERATE_FAULT_KINDS

    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    from tui.simulator.server import FAIL_TRIGGER, UNKNOWN_CLIP

    text = capsys.readouterr().out.split("\ngenerate:\n", 1)[1]
    assert f"trigger word {FAIL_TRIGGER}" in " ".join(text.split())
    assert f"code {UNKNOWN_CLIP} (unknown clip)" in " ".join(text.split())
    for kind in GENERATE_FAULT_KINDS:
        assert f"    {kind} " in text
