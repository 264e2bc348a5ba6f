"""Notifications outside the dashboard (issue #13): terminal escape sequences
recorded from the driver, a desktop command run by a recorder script, and the
expiry warnings in fake time."""

from __future__ import annotations

import base64
import json
import re
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from tui.api.models import Clip, Task
from tui.core.config import ConfigError, load_config
from tui.services import notify
from tui.services.expiry_watch import ExpiryWatch
from tui.services.poller import Polled
from tui.services.tracker import Tracker
from tui.ui.outside import OutsideNotifier

from .conftest import FakeClock
from .harness import loaded, make_app, notifications, screen_text, wait_for

HOSTILE = "Evil\x1b]0;pwned\x07\x1b[31m\x9d8;;http://x\x9c\u202eend\nline"


def test_osc_sequences_for_each_terminal() -> None:
    assert notify.sequence("osc9", "Task completed", "✔ Song done") == (
        "\x1b]9;Task completed: ✔ Song done\x1b\\"
    )
    assert notify.sequence("osc777", "A;B", "x; y") == "\x1b]777;notify;A,B;x; y\x1b\\"
    kitty = notify.sequence("osc99", "Title", "Body")
    chunks = re.findall(r"\x1b\]99;([^;]*);([^\x1b]*)\x1b\\", kitty)
    assert [(meta, base64.b64decode(text).decode()) for meta, text in chunks] == [
        ("i=musicmint:d=0:e=1:p=title", "Title"),
        ("i=musicmint:d=1:e=1:p=body", "Body"),
    ]
    assert notify.sequence("off", "T", "B") == ""


def test_tmux_passthrough_wraps_with_doubled_escapes() -> None:
    wrapped = notify.sequence("osc9", "T", "B", tmux=True)
    assert wrapped == "\x1bPtmux;\x1b\x1b]9;T: B\x1b\x1b\\\x1b\\"


@pytest.mark.parametrize("method", ["osc9", "osc777", "osc99"])
def test_hostile_text_cannot_inject_escapes(method: str) -> None:
    out = notify.sequence(method, HOSTILE * 10, HOSTILE * 50)
    # Exactly the sequence's own ESCs: one OSC opener and one ST per chunk.
    chunks = 2 if method == "osc99" else 1
    assert out.count("\x1b") == 2 * chunks
    assert not re.search("[\x00-\x1a\x1c-\x1f\x7f-\x9f\u202e\n]", out)
    body = notify.safe_text(HOSTILE * 50, notify.MAX_BODY)
    assert len(body) <= notify.MAX_BODY and body.endswith("…")
    assert notify.safe_text(HOSTILE, 100).startswith("Evil ]0;pwned [31m 8;;http://x end line")


@pytest.mark.parametrize(
    ("env", "method"),
    [
        ({"TERM_PROGRAM": "iTerm.app"}, "osc9"),
        ({"TERM_PROGRAM": "WezTerm"}, "osc9"),
        ({"TERM_PROGRAM": "ghostty"}, "osc9"),
        ({"WT_SESSION": "abc"}, "osc9"),
        ({"TERM": "foot"}, "osc777"),
        ({"TERM": "rxvt-unicode-256color"}, "osc777"),
        ({"TERM": "xterm-kitty"}, "osc99"),
        ({"TERM": "tmux-256color", "TMUX": "/tmp/t,1,0", "KITTY_WINDOW_ID": "1"}, "osc99"),
        ({"TERM": "xterm-256color"}, "off"),
        ({}, "off"),
    ],
)
def test_auto_picks_the_terminal_from_the_environment(env: dict, method: str) -> None:
    assert notify.terminal_method("auto", env) == method
    assert notify.terminal_method("osc777", env) == "osc777"


def test_desktop_command_auto_and_custom() -> None:
    def which(name: str) -> str:
        return f"/usr/bin/{name}"

    linux = notify.desktop_command("auto", {"DISPLAY": ":0"}, "linux", which)
    assert linux == ("/usr/bin/notify-send", "--app-name=MusicMint", "--")
    assert notify.desktop_command("auto", {}, "linux", which) == ()  # no display
    mac = notify.desktop_command("auto", {}, "darwin", which)
    assert mac[0] == "osascript" and "item 2 of argv" in " ".join(mac)
    assert notify.desktop_command("off", {"DISPLAY": ":0"}, "linux", which) == ()
    assert notify.desktop_command("my-notify --urgent 'a b'", {}, "linux", which) == (
        "my-notify",
        "--urgent",
        "a b",
    )


@pytest.fixture
def recorder(tmp_path: Path) -> tuple[Path, Path]:
    """A script that appends its arguments (as a JSON list) to a file."""
    log = tmp_path / "argv.jsonl"
    script = tmp_path / "record-args"
    script.write_text(
        "#!/usr/bin/env python3\nimport json, sys\n"
        f"with open({str(log)!r}, 'a') as f:\n"
        "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, log


def test_the_command_gets_the_text_as_arguments_never_through_a_shell(
    recorder: tuple[Path, Path], tmp_path: Path
) -> None:
    script, log = recorder
    trap = tmp_path / "pwned"
    body = f"$(touch {trap}); rm -rf / `touch {trap}` && echo | cat"
    argv = notify.command_line((str(script), "--flag", "two words"), "Title -x", body)
    assert notify.run_command(argv).ok
    assert json.loads(log.read_text()) == ["--flag", "two words", "Title -x", body]
    assert not trap.exists()


def test_a_failing_or_missing_command_is_reported_not_raised(tmp_path: Path) -> None:
    assert notify.run_command([str(tmp_path / "nope"), "t", "b"]).problem.endswith("not found")
    assert notify.run_command(["false"]).problem == "exit status 1"


def test_config_checks_the_notifications_section(tmp_path: Path) -> None:
    config = load_config(env={})
    assert (config.notify_terminal, config.notify_desktop) == ("auto", "off")
    assert config.notify_on_finish and config.notify_on_expiry
    bad = tmp_path / "bad.toml"
    bad.write_text('[notifications]\nterminal = "osc8"\n')
    with pytest.raises(ConfigError, match=r"\[notifications\] terminal: expected one of"):
        load_config(bad, env={})
    bad.write_text('[notifications]\ndesktop = "notify-send \'oops"\n')
    with pytest.raises(ConfigError, match="balanced quotes"):
        load_config(bad, env={})
    good = tmp_path / "good.toml"
    good.write_text('[notifications]\nterminal = "osc99"\ndesktop = "notify-send --"\n')
    config = load_config(good, env={})
    assert (config.notify_terminal, config.notify_desktop) == ("osc99", "notify-send --")


class RecordingDriver:
    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, data: str) -> None:
        self.written.append(data)


def test_the_demo_sends_nothing_outside_unless_the_file_asks(tmp_path: Path) -> None:
    driver = RecordingDriver()
    workers: list[object] = []
    app = SimpleNamespace(_driver=driver, run_worker=lambda *a, **k: workers.append(a))
    outside = OutsideNotifier(app, env={"TERM_PROGRAM": "WezTerm", "DISPLAY": ":0"})  # type: ignore[arg-type]
    config = load_config(env={})
    config = type(config)(**{**config.__dict__, "notify_desktop": "true"})
    outside.send(config, "T", "B", "finish", demo=True)
    assert driver.written == [] and workers == []
    outside.send(config, "T", "B", "finish", demo=False)
    assert driver.written == ["\x1b]9;T: B\x1b\\"] and len(workers) == 1
    chosen = tmp_path / "c.toml"
    chosen.write_text('[notifications]\nterminal = "auto"\n')
    outside.send(load_config(chosen, env={}), "T", "B", "finish", demo=True)
    assert len(driver.written) == 2 and len(workers) == 1
    outside.send(config, "T", "B", "expiry", demo=False)  # per kind
    off = type(config)(**{**config.__dict__, "notify_on_expiry": False})
    outside.send(off, "T", "B", "expiry", demo=False)
    assert len(driver.written) == 3


# -- in the app ------------------------------------------------------------------
async def test_a_finish_is_sent_to_the_terminal_and_the_command(
    sim_server, data_dir, clock: FakeClock, recorder: tuple[Path, Path], monkeypatch
) -> None:
    script, log = recorder
    monkeypatch.delenv("TMUX", raising=False)
    book = sim_server.sim.book
    book.override("evil", {"id": "evil", "status": "processing", "created_at": 0})
    app = make_app(
        sim_server,
        data_dir,
        clock,
        ids=["evil"],
        notify_terminal="osc777",
        notify_desktop=f"{script} --from-musicmint",
    )
    async with app.run_test() as pilot:
        driver = RecordingDriver()
        app._driver.write = driver.write  # type: ignore[method-assign,union-attr]
        await loaded(pilot)
        await wait_for(pilot, lambda: app.records["evil"].status == "processing")
        clip = {"id": "c1", "title": HOSTILE, "audio_url": "http://x/a.mp3", "expire_at": 0}
        book.override("evil", {"id": "evil", "status": "completed", "results": [clip]})
        await wait_for(pilot, lambda: any(s.startswith("\x1b]777;") for s in driver.written))
        (osc,) = [s for s in driver.written if s.startswith("\x1b]777;")]
        assert osc.startswith("\x1b]777;notify;Task completed;✔ Evil")
        assert osc.count("\x1b") == 2 and "\x07" not in osc
        await wait_for(pilot, lambda: log.exists() and log.read_text())
        (args,) = [json.loads(line) for line in log.read_text().splitlines()]
        assert args[:2] == ["--from-musicmint", "Task completed"]
        assert args[2].startswith("✔ Evil") and "(1 clip)" in args[2]
        assert not re.search("[\x00-\x1f\x7f-\x9f]", args[2])


def _polled(tracker: Tracker, task_id: str, expire_ms: int, now: float) -> None:
    clip = Clip("c1", None, None, "Glass Orchard", 60.0, None, None, expire_ms)
    tracker.add([task_id], now)
    tracker.polled(Polled(task_id, Task(task_id, "completed", None, (clip,)), now, 0.0))


def test_expiry_watch_warns_at_warn_hours_then_at_one_hour_then_never() -> None:
    tracker, watch, now = Tracker(), ExpiryWatch(), 1_000_000.0
    _polled(tracker, "t", int((now + 5 * 3600) * 1000), now)
    assert watch.due(tracker, now, warn_hours=2) == []
    first = watch.due(tracker, now + 3.5 * 3600, warn_hours=2)
    assert [(w.record.id, w.clip_title, w.last_hour) for w in first] == [
        ("t", "Glass Orchard", False)
    ]
    assert watch.due(tracker, now + 3.9 * 3600, warn_hours=2) == []
    last = watch.due(tracker, now + 4.2 * 3600, warn_hours=2)
    assert [w.last_hour for w in last] == [True]
    assert watch.due(tracker, now + 4.9 * 3600, warn_hours=2) == []
    assert watch.due(tracker, now + 6 * 3600, warn_hours=2) == []  # expired


def test_a_clip_first_seen_in_its_last_hour_is_warned_once_and_saving_stops_it() -> None:
    tracker, watch, now = Tracker(), ExpiryWatch(), 1_000_000.0
    _polled(tracker, "late", int((now + 1800) * 1000), now)
    _polled(tracker, "saved", int((now + 3 * 3600) * 1000), now)
    due = watch.due(tracker, now, warn_hours=24)
    assert sorted((w.record.id, w.last_hour) for w in due) == [("late", True), ("saved", False)]
    assert watch.due(tracker, now + 60, warn_hours=24) == []
    tracker.download_saved("saved", "c1", "/music/saved.mp3")
    assert watch.due(tracker, now + 2.5 * 3600, warn_hours=24) == []


def test_a_reloaded_warn_hours_is_used_at_once() -> None:
    tracker, watch, now = Tracker(), ExpiryWatch(), 1_000_000.0
    _polled(tracker, "t", int((now + 5 * 3600) * 1000), now)
    assert watch.due(tracker, now, warn_hours=2) == []
    assert [w.record.id for w in watch.due(tracker, now + 1, warn_hours=6)] == ["t"]


async def test_expiry_warning_in_the_app_once_at_warn_hours_and_again_at_one_hour(
    sim_server, data_dir, clock: FakeClock
) -> None:
    # Done a week ago less three hours: its week-long clip expires in 3 h.
    sim_server.sim.book.seed(
        "old",
        outcome="completed",
        expiries=("week",),
        queued_for=1,
        processing_for=1,
        age=7 * 86_400 - 3 * 3600 + 2,
    )
    app = make_app(sim_server, data_dir, clock, ids=["old"], warn_hours=2.0, notify_on_expiry=True)

    def warnings() -> list[str]:
        return [n for n in notifications(app) if "expires soon" in n]

    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.records["old"].status == "completed")
        expire_at = app.records["old"].task.results[0].expire_at / 1000
        assert not warnings()
        clock.now = expire_at - 1.5 * 3600
        await wait_for(pilot, lambda: len(warnings()) == 1)
        await wait_for(pilot, lambda: "1 clip expiring soon" in screen_text(app))
        assert " in 1h 30m" in warnings()[0] and "(task old)" in warnings()[0]
        clock.now = expire_at - 0.5 * 3600
        await wait_for(pilot, lambda: len(warnings()) == 2)
        assert " in 30m 00s" in warnings()[1]
        clock.now = expire_at + 10
        # The heartbeat that takes the flag off the status bar looked for warnings too.
        await wait_for(pilot, lambda: "clip expiring soon" not in screen_text(app))
        assert len(warnings()) == 2


async def test_a_restart_does_not_warn_about_the_same_clip_again(
    sim_server, data_dir, clock: FakeClock
) -> None:
    """Review finding: what was warned lived for one session, so every start
    warned about every unsaved clip within warn_hours again."""
    sim_server.sim.book.seed(
        "soon",
        outcome="completed",
        expiries=("week",),
        queued_for=1,
        processing_for=1,
        age=7 * 86_400 - 3 * 3600 + 2,
    )

    def warnings(app) -> list[str]:
        return [n for n in notifications(app) if "expires soon" in n]

    first = make_app(
        sim_server, data_dir, clock, ids=["soon"], warn_hours=4.0, notify_on_expiry=True
    )
    async with first.run_test() as pilot:
        await wait_for(pilot, lambda: len(warnings(first)) == 1)
        state = data_dir / "ui.json"
        await wait_for(pilot, lambda: state.exists() and '"soon"' in state.read_text())
    again = make_app(sim_server, data_dir, clock, warn_hours=4.0, notify_on_expiry=True)
    async with again.run_test() as pilot:
        await wait_for(pilot, lambda: again.loaded and again.records["soon"].task is not None)
        await wait_for(pilot, lambda: "⚠ 1 clip expiring" in screen_text(again))
        assert warnings(again) == []  # the heartbeat looked, and remembered it was said
