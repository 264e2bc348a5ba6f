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
