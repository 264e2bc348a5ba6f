"""`wait`'s progress on stderr: a live board in a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import os
import re
import sys

import pytest

from tui.api import MusicMintClient
from tui.cli.main import main
from tui.cli.progress import GLYPHS, MIN_GAP, LiveBoard
from tui.cli.wait import wait_for
from tui.simulator import Fault, SimulatorServer

from .conftest import KEY

#: The only escape sequences the board itself writes: cursor up, erase line,
#: erase below.
OWN_SEQUENCES = re.compile(r"\x1b\[(?:\d+A|2K|J)")
HOSTILE = "boom\x1b]52;c;aGk=\x07\x1b[2J\u202e"


class TerminalStream(io.StringIO):
    """Stderr as a terminal: what ``wait`` writes there is kept for the test."""

    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def size(columns: int = 80, lines: int = 24):  # type: ignore[no-untyped-def]
    return lambda: os.terminal_size((columns, lines))


def last_frame(text: str) -> list[str]:
    """The lines on screen once the board stopped: those after the last cursor-up."""
    tail = re.split(r"\r\x1b\[\d+A", text)[-1]
    return [line.removeprefix("\x1b[2K") for line in tail.splitlines()]


@pytest.fixture
def api_env(sim_server: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> SimulatorServer:
    monkeypatch.setenv("MUSICMINT_API_KEY", KEY)
    monkeypatch.setenv("MUSICMINT_BASE_URL", sim_server.url)
    return sim_server


def hostile_book(server: SimulatorServer) -> list[str]:
    """Tasks ending every way, with server text that tries to reach the terminal."""
    sim = server.sim
    sim.book.seed("done1", outcome="completed", age=600)
    sim.book.override("bad1", {"id": "bad1", "status": "failed", "error": HOSTILE})
    sim.inject("ghost", Fault.not_found())
    sim.inject("odd", Fault.envelope_error(4001, f"key {KEY} refused here\x1b[31m"))
    return ["done1", "bad1", "ghost", "odd"]


async def test_live_board_shows_each_task_and_keeps_server_escapes_out(
    sim_server: SimulatorServer, client: MusicMintClient
) -> None:
    ids = hostile_book(sim_server)
    stream = TerminalStream()
    board = LiveBoard(stream, ids, KEY, size=size())
    status, _, _ = await wait_for(client, ids, 5.0, 0.05, board, secret=KEY)
    assert status == 1
    text = stream.getvalue()
    assert "\x1b" not in OWN_SEQUENCES.sub("", text)  # only the board's own moves
    assert "\x07" not in text and "\u202e" not in text
    assert KEY not in text
    frame = last_frame(text)
    assert [line.split()[:3] for line in frame] == [
        ["✔", "done1", "completed"],
        ["✘", "bad1", "failed"],
        ["⊘", "ghost", "not"],
        ["✘", "odd", "error"],
    ]
    assert "boom\\x1b]52;c;aGk=\\x07\\x1b[2J\\u202e" in frame[1]  # shown, defused
    assert "sk-mm-…0001 refused here\\x1b[31m" in frame[3]
    assert board.frames >= 2  # drawn at the start, then redrawn in place
    assert text.count("\r\x1b[4A") == board.frames - 1


def test_wait_in_a_terminal_draws_the_board_and_prints_results_as_before(
    api_env, capsys, monkeypatch
) -> None:
    api_env.sim.book.seed("done1", outcome="completed", age=600)
    monkeypatch.delenv("TERM", raising=False)
    terminal = TerminalStream()
    monkeypatch.setattr(sys, "stderr", terminal)
    status = main(["wait", "done1", "--interval", "0.05", "--timeout", "10"])
    assert status == 0
    assert last_frame(terminal.getvalue())[0].split()[:3] == ["✔", "done1", "completed"]
    assert "\r\x1b[1A\x1b[2K" in terminal.getvalue()  # redrawn in place
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[:2] == ["done1", "completed"]


@pytest.mark.parametrize("term", ["dumb", "plain-stream"])
def test_plain_timestamped_lines_outside_a_terminal(api_env, capsys, monkeypatch, term) -> None:
    """A pipe, a log file, or a terminal that cannot move the cursor: the
    lines scripts have always read, and no escape sequence at all."""
    hostile_book(api_env)
    if term == "dumb":
        monkeypatch.setenv("TERM", "dumb")
        monkeypatch.setattr(sys, "stderr", TerminalStream())
    status = main(["wait", "done1", "bad1", "ghost", "--interval", "0.05", "--timeout", "10"])
    err = sys.stderr.getvalue() if term == "dumb" else capsys.readouterr().err  # type: ignore[attr-defined]
    assert status == 1
    assert "\x1b" not in err
    lines = sorted(line.split(" ", 1)[1] for line in err.splitlines())
    assert lines == [
        "bad1: failed (boom\\x1b]52;c;aGk=\\x07\\x1b[2J\\u202e)",
        "done1: completed",
        "ghost: not found: task not found (code 4004, HTTP 404, request req-sim-4004)",
    ]
    assert all(re.match(r"\d\d:\d\d:\d\d \S+: ", line) for line in err.splitlines())


def test_the_board_redraws_at_most_every_quarter_second_and_only_on_change() -> None:
    clock, stream = Clock(), TerminalStream()
    board = LiveBoard(stream, ["a1", "b2"], clock=clock, size=size())
    board.draw()
    assert board.frames == 1
    for status in ("queuing", "processing", "queuing", "processing"):
        clock.now += 0.01
        board.status("a1", status)  # a burst within one quarter second
    assert board.frames == 1
    clock.now = MIN_GAP
    board.draw()  # the ticker's turn: one frame for the whole burst
    assert board.frames == 2
    assert last_frame(stream.getvalue())[0].split()[:3] == ["◐", "a1", "processing"]
    clock.now = 0.9
    board.draw()  # nothing changed, not even the elapsed "0s"
    assert board.frames == 2
    clock.now = 1.0
    board.draw()  # "1s" now: a change worth a frame
    assert board.frames == 3
    board.status("b2", "completed")
    assert board.frames == 3  # too soon after the last frame
    board.close()  # the end is always shown
    assert board.frames == 4
    assert last_frame(stream.getvalue())[1].split()[:3] == ["✔", "b2", "completed"]


def test_elapsed_stops_when_a_task_finishes() -> None:
    clock, stream = Clock(), TerminalStream()
    board = LiveBoard(stream, ["a1", "b2"], clock=clock, size=size())
    clock.now = 75.0
    board.status("a1", "completed")
    clock.now = 130.0
    board.close()
    frame = last_frame(stream.getvalue())
    assert frame[0].split()[-2:] == ["1m", "15s"]
    assert frame[1].split()[-2:] == ["2m", "10s"]


def test_lines_fit_the_terminal_and_many_tasks_are_counted() -> None:
    stream = TerminalStream()
    ids = [f"task{i:02d}" for i in range(30)]
    board = LiveBoard(stream, ids, size=size(columns=40, lines=10))
    board.status("task00", "failed", "界" * 100)  # wide characters take two cells
    board.status("task29", "completed")
    board.status("task28", "odd\x1b[2J")  # a status this version does not know
    board.close()
    frame = last_frame(stream.getvalue())
    assert len(frame) == 9  # the cursor's own line stays on screen
    assert frame[-1].startswith("… and 22 more: 20 pending, 1 odd\\x1b[2")
    assert "\x1b" not in OWN_SEQUENCES.sub("", stream.getvalue())
    cells = [sum(2 if ch == "界" else 1 for ch in line) for line in frame]
    assert max(cells) <= 39 and frame[0].endswith("…")


def test_glyphs_are_the_dashboards() -> None:
    from tui.ui.widgets.presentation import STATUS_LOOK

    assert {status: glyph for status, (glyph, _) in STATUS_LOOK.items()} == {
        status: glyph for status, glyph in GLYPHS.items() if status != "error"
    }
