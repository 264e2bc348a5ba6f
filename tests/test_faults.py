"""Fault injection: the dashboard against a misbehaving simulator.

Each test asserts on what the user sees and on the simulator's request log.
"""

from __future__ import annotations

import dataclasses
import re
import time

import pytest

from tui.core import locations
from tui.core.config import load_config
from tui.simulator import Fault, Simulator, SimulatorServer

from .conftest import KEY
from .harness import SIZE, make_app, notifications, region_text, screen_text, wait_for


async def test_retry_after_pauses_every_request(sim_server, data_dir, clock) -> None:
    sim = sim_server.sim
    for task_id in ("r1", "r2", "r3"):
        sim.book.seed(task_id, queued_for=1000)
    sim.inject("r1", Fault.rate_limited("1", times=1))
    app = make_app(sim_server, data_dir, clock, ids=["r1", "r2", "r3"], interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.poller.paused_for() > 0)
        learned = time.monotonic()  # the client knows about the 429 from here on
        limited_at = next(r.at for r in sim.requests if r.status == 429)
        await wait_for(pilot, lambda: "rate limited" in screen_text(app).splitlines()[0])
        await wait_for(pilot, lambda: sim.requests[-1].at > limited_at + 1.0, timeout=6)
    # Requests sent before the 429 was read may still land just after it; none
    # may be sent once it was, until Retry-After has passed.
    during = [r for r in sim.task_requests() if learned + 0.1 < r.at < limited_at + 0.95]
    assert during == []
    assert any(r.at >= limited_at + 1.0 for r in sim.task_requests())


async def test_auth_failure_stops_polling_until_reload(
    sim_server, data_dir, clock, monkeypatch
) -> None:
    config_file = locations.default_config_file()
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(f'[api]\napi_key = "sk-mm-wrong-key-1"\nbase_url = "{sim_server.url}"\n')
    config_file.chmod(0o600)
    sim_server.sim.book.seed("a1", queued_for=1000)
    app = make_app(sim_server, data_dir, clock, ids=["a1", "a2"], api_key="sk-mm-wrong-key-1")
    app._reload = lambda: load_config(env={})
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "was refused" in screen_text(app))
        text = screen_text(app)
        assert "ctrl+r" in text and str(config_file) in text
        assert "wrong-key" not in text  # the key is only ever shown masked
        assert app.poller.auth_blocked  # sends nothing until resumed (test_poller)
        assert len(sim_server.sim.task_requests()) <= 2
        config_file.write_text(f'[api]\napi_key = "{KEY}"\nbase_url = "{sim_server.url}"\n')
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.records["a1"].status == "queuing")
        await wait_for(pilot, lambda: "was refused" not in screen_text(app))
        notes = notifications(app)
        assert any("trying the key" in n for n in notes)
        assert any("was accepted; polling resumed" in n for n in notes)


async def test_reload_with_the_same_refused_env_key_claims_nothing(
    sim_server, data_dir, clock
) -> None:
    """A key from the environment cannot be re-read: the banner does not send
    the user to ctrl+r as the fix, and ctrl+r with the same (still disabled)
    key says it tried again and was refused, never "restored" or "resumed"."""
    sim_server.sim.disabled_keys[KEY] = 1003
    app = make_app(sim_server, data_dir, clock, ids=["e1", "e2", "e3"])
    sources = {**app.config.sources, "api.api_key": "env MUSICMINT_API_KEY"}
    app.config = dataclasses.replace(app.config, sources=sources)
    app._reload = lambda: app.config
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "was refused" in screen_text(app))
        banner = region_text(app, app.main.banner)
        assert "restart" in banner and "cannot re-read" in banner
        assert "fix it and restart, then press ctrl+r" not in banner
        # Every request in flight is refused: that is one refusal, not "again".
        await wait_for(pilot, lambda: len(sim_server.sim.task_requests()) >= 3)
        await pilot.pause()
        assert not any("again" in n for n in notifications(app))
        sent = len(sim_server.sim.task_requests())
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(sim_server.sim.task_requests()) >= sent + 1)
        await wait_for(pilot, lambda: any("refused again" in n for n in notifications(app)))
        await pilot.pause()
        assert sum("refused again" in n for n in notifications(app)) == 1
        notes = " | ".join(notifications(app))
        assert "the key is unchanged" in notes and "trying it once more" in notes
        assert "restored" not in notes and "resumed" not in notes and "accepted" not in notes
        assert "was refused" in screen_text(app)  # the banner stayed
        assert "✘ auth failed" in screen_text(app).splitlines()[0]
        sim_server.sim.disabled_keys.clear()  # re-enabled on the server
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: any("was accepted" in n for n in notifications(app)))
        await wait_for(pilot, lambda: "was refused" not in screen_text(app))


async def test_reload_during_a_retry_after_pause_does_not_claim_polling_resumed(
    sim_server, data_dir, clock
) -> None:
    sim_server.sim.inject(None, Fault.rate_limited("100"))
    app = make_app(sim_server, data_dir, clock, ids=["a1"])
    app._reload = lambda: app.config
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.poller.paused_for() > 90)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: any("Config reloaded" in n for n in notifications(app)))
        said = [n for n in notifications(app) if "Config reloaded" in n][-1]
        assert "still paused 1m" in said and "Retry-After" in said
        assert "resumed" not in said


async def test_disabled_key_code_1003_also_stops(sim_server, data_dir, clock) -> None:
    sim_server.sim.disabled_keys[KEY] = 1003
    app = make_app(sim_server, data_dir, clock, ids=["d1"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "API key is disabled" in screen_text(app))
        assert "✘ auth failed" in screen_text(app).splitlines()[0]


async def test_hanging_request_does_not_delay_others(sim_server, data_dir, clock) -> None:
    sim = sim_server.sim
    sim.inject("stuck", Fault.hang(30, times=1))
    sim.book.seed("free", queued_for=1000)
    app = make_app(sim_server, data_dir, clock, ids=["stuck", "free"], interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(sim.task_requests("free")) >= 10, timeout=3)
        assert sim.task_requests("stuck") == []  # its first answer has not even been sent
        assert app.records["stuck"].status == "pending"
        await pilot.press("j")  # and the UI answers keys meanwhile
        assert app.main.table.highlighted_id == "free"


async def test_hung_request_times_out_and_is_retried(sim_server, data_dir, clock) -> None:
    sim_server.sim.inject("slow", Fault.hang(30, times=1))
    sim_server.sim.book.seed("slow", queued_for=1000)
    app = make_app(sim_server, data_dir, clock, ids=["slow"], timeout=0.3)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "no complete answer within 0.3 s" in screen_text(app))
        await wait_for(pilot, lambda: app.records["slow"].status == "queuing", timeout=5)


async def test_the_retry_countdown_is_live(sim_server, data_dir, clock) -> None:
    sim_server.sim.inject("flaky", Fault.html_error(502))
    app = make_app(sim_server, data_dir, clock, ids=["flaky"], interval=5.0)
    async with app.run_test(size=SIZE) as pilot:
        countdown = re.compile(r"retrying in (\d+)s")
        await wait_for(pilot, lambda: countdown.search(screen_text(app)) is not None)
        first = int(countdown.search(screen_text(app)).group(1))
        clock.advance(3)
        await wait_for(
            pilot,
            lambda: (
                (m := countdown.search(screen_text(app))) is not None
                and int(m.group(1)) == first - 3
            ),
        )


async def test_recovers_after_server_restart_on_same_port(sim_server, data_dir, clock) -> None:
    sim = sim_server.sim
    sim.book.seed("survivor", queued_for=5, processing_for=5, outcome="completed")
    sim.book.seed("other", queued_for=1000)
    app = make_app(sim_server, data_dir, clock, ids=["survivor", "other"], interval=0.05)
    app.poller.max_backoff = 0.3
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["survivor"].status == "queuing")
        port = sim_server.port
        sim_server.stop()
        await wait_for(pilot, lambda: "offline since" in screen_text(app).splitlines()[0])
        assert app.records["survivor"].status == "queuing"  # last good state kept
        await wait_for(
            pilot, lambda: re.search(r"cannot reach|closed the connection", screen_text(app))
        )
        clock.advance(20)
        revived = SimulatorServer(Simulator(api_key=KEY, clock=clock), port=port)
        revived.sim.book = sim.book
        with revived:
            await wait_for(pilot, lambda: app.records["survivor"].status == "completed", timeout=8)
            await wait_for(pilot, lambda: "● ok" in screen_text(app).splitlines()[0])
            assert any("Connection restored" in n for n in notifications(app))
            # No task is left counting down an old backoff once the link is back.
            await wait_for(pilot, lambda: "retrying in" not in screen_text(app))


async def test_result_expired_code_disables_open(sim_server, data_dir, clock, tmp_path) -> None:
    sim = sim_server.sim
    sim.book.seed("old", outcome="completed", expiries=("week",), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["old"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["old"].finished)
        sim.inject("old", Fault.envelope_error(4005, "result expired"))
        await pilot.press("r")
        await wait_for(pilot, lambda: app.records["old"].expired is not None)
        await wait_for(pilot, lambda: "expired (server: result expired)" in screen_text(app))
        await pilot.press("o")
        assert "Not opening: the server says the results expired" in notifications(app)[-1]
        assert app.records["old"].task is not None  # the clip info stays visible


async def test_past_expire_at_disables_open(sim_server, data_dir, clock) -> None:
    sim_server.sim.book.seed("past", outcome="completed", expiries=("expired",), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["past"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["past"].finished)
        await pilot.press("o")
        assert "Not opening: its files expired at" in notifications(app)[-1]


@pytest.mark.parametrize(
    "fault",
    [
        Fault.truncated(times=2),
        Fault.html_error(500, times=2),
        Fault(status=200, body=b"<html>captive portal</html>", times=2),
        Fault(status=200, body=b'{"code": 0, "data": [1, 2]}', times=2),
    ],
    ids=["truncated", "html-500", "html-200", "wrong-shape"],
)
async def test_bad_data_is_a_task_error_then_recovers(sim_server, data_dir, clock, fault) -> None:
    sim_server.sim.inject("bd", fault)
    sim_server.sim.book.seed("bd", queued_for=1000)
    app = make_app(sim_server, data_dir, clock, ids=["bd"], interval=0.05)
    app.poller.max_backoff = 0.2
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["bd"].last_error is not None)
        await wait_for(pilot, lambda: "Problem" in screen_text(app))
        await wait_for(pilot, lambda: app.records["bd"].status == "queuing", timeout=5)
        assert app.records["bd"].last_error is None


async def test_unknown_status_and_null_fields_render(sim_server, data_dir, clock) -> None:
    sim_server.sim.book.override(
        "odd",
        {
            "id": "odd",
            "status": "paused_by_moderator",
            "created_at": None,
            "results": [
                None,
                {"title": None, "duration": "x", "expire_at": "soon", "audio_url": ""},
            ],
        },
    )
    app = make_app(sim_server, data_dir, clock, ids=["odd"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["odd"].task is not None)
        await pilot.pause()
        text = screen_text(app)
        assert "? paused_by_mode" in text
        assert "(untitled)" in text and "not ready yet" in text
        await pilot.press("o")
        assert "no URL yet" in notifications(app)[-1]


async def test_huge_payload_renders(sim_server, data_dir, clock) -> None:
    clips = [
        {
            "id": f"clip-{i}",
            "title": f"曲{i} 🎵 夜明けのメロディー",
            "duration": 61.5 + i,
            "tags": "j-pop 🎧 " * 20,
            "prompt": "長いプロンプト " * 700,
            "audio_url": f"https://cdn.example.com/{i}.mp3",
            "image_url": "",
            "expire_at": 0,
        }
        for i in range(20)
    ]
    sim_server.sim.book.override(
        "big", {"id": "big", "status": "completed", "created_at": 1, "results": clips}
    )
    app = make_app(sim_server, data_dir, clock, ids=["big"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["big"].finished)
        await pilot.press("left_square_bracket")  # wraps to the last clip
        assert app.main.detail.selected == 19
        await wait_for(pilot, lambda: "Clip 20/20" in screen_text(app))
        assert "曲19 🎵 夜明けのメロディー" in screen_text(app)


HOSTILE = (
    "[bold]X[/bold] [@click=app.quit]Q[/] [link=file:///etc/passwd]L[/link] "
    "\x1b[31mRED\x1b]52;c;aGk=\x07"
)


async def test_hostile_text_renders_literally_everywhere(sim_server, data_dir, clock) -> None:
    sim_server.sim.book.override(
        "evil1",
        {
            "id": "evil1",
            "status": "completed",
            "created_at": 1,
            "results": [
                {
                    "id": "c[/x]",
                    "title": HOSTILE,
                    "tags": HOSTILE,
                    "prompt": HOSTILE,
                    "audio_url": "https://x/a.mp3",
                    "expire_at": 0,
                }
            ],
        },
    )
    sim_server.sim.book.override("evil2", {"id": "evil2", "status": "queuing"})
    app = make_app(sim_server, data_dir, clock, ids=["evil1", "evil2"], timeout=2.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["evil2"].status == "queuing")
        sim_server.sim.book.override("evil2", {"id": "evil2", "status": "failed", "error": HOSTILE})
        await wait_for(pilot, lambda: app.records["evil2"].finished)
        await wait_for(pilot, lambda: app.records["evil1"].finished)
        await wait_for(pilot, lambda: "[bold]X[/bold]" in screen_text(app))
        assert app.is_running  # [@click=app.quit] did not quit
        text = screen_text(app)
        assert "[bold]X[/bold]" in text  # table title cell and detail pane
        assert "[@click=app.quit]Q[/]" in text
        assert "[link=file:///etc/passwd]L[/link]" in text
        assert "\\x1b[31mRED" in text
        assert "\x1b" not in text and "\x07" not in text
        assert "c[/x]" in text
        await wait_for(pilot, lambda: any("evil2 failed" in n for n in notifications(app)))
        failed_note = next(n for n in notifications(app) if "evil2 failed" in n)
        assert "[bold]X[/bold]" in failed_note and "\x1b" not in failed_note
        await pilot.press("j")
        await wait_for(pilot, lambda: app.main.detail.record is app.records["evil2"])
        await wait_for(pilot, lambda: "[@click=app.quit]Q[/]" in screen_text(app))  # its error


async def test_permission_warning_for_exposed_key(sim_server, data_dir, clock) -> None:
    config_file = locations.default_config_file()
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text('[api]\napi_key = "sk-mm-exposed-9999"\n')
    config_file.chmod(0o644)
    config = load_config(env={})
    assert len(config.warnings) == 1 and "chmod 600" in config.warnings[0]
    config_file.chmod(0o600)
    assert load_config(env={}).warnings == ()


def test_time_is_real_enough() -> None:
    """Guards the Retry-After test: the simulator's request stamps are monotonic."""
    a = time.monotonic()
    assert time.monotonic() >= a
