"""A hostile server: each attack of the hardening issue, over real loopback HTTP.

Every test here reproduces one way a server (or something between us and it)
can misbehave, and checks what a user would notice: no crash, no freeze, a
clear message, nothing lost.
"""

from __future__ import annotations

from pathlib import Path

from tui.core import logs

from .conftest import FakeClock
from .harness import make_app, region_text, screen_text, wait_for

HUGE = 10**400  # valid JSON; overflows a float, and SQLite's INTEGER


async def test_out_of_range_numbers_show_as_missing_and_survive_a_restart(
    sim_server, data_dir: Path, tmp_path: Path, clock: FakeClock
) -> None:
    """A 400-digit ``expire_at``/``created_at`` once raised OverflowError on every
    repaint, and, saved with an unfinished task, on every start."""
    book = sim_server.sim.book
    book.override(
        "huge",
        {
            "id": "huge",
            "status": "processing",
            "created_at": HUGE,
            "results": [
                {"id": "c1", "title": "Big", "duration": HUGE, "expire_at": HUGE},
                {"id": "c2", "title": "Nan", "duration": float("nan"), "expire_at": -5},
            ],
        },
    )
    seconds = int(clock.now)  # a server sending seconds where the spec says ms
    book.override(
        "secs",
        {
            "id": "secs",
            "status": "completed",
            "created_at": seconds - 60,
            "results": [{"id": "c3", "title": "Secs", "expire_at": seconds + 86_400}],
        },
    )
    recent, _ = logs.setup(tmp_path / "logs", "sk-mm-unused")
    try:
        app = make_app(sim_server, data_dir, clock, ids=["huge", "secs"])
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: app.records["huge"].task is not None)
            await wait_for(pilot, lambda: app.records["secs"].finished)
            await wait_for(pilot, lambda: "Big" in region_text(app, app.main.detail))
            detail = region_text(app, app.main.detail)
            assert "Created    —" in detail and "Length     —" in detail
            assert "digit" not in screen_text(app)  # no 400-digit lengths anywhere
            clip = app.records["secs"].task.results[0]
            assert clip.expire_at == (seconds + 86_400) * 1000  # read as seconds
            await pilot.press("j")
            await wait_for(pilot, lambda: "1d" in region_text(app, app.main.detail))
            assert "expired" not in region_text(app, app.main.detail)
        logged = "\n".join(recent.lines)
        assert "created_at a 401-digit number is out of range" in logged
        assert "expire_at -5 is out of range" in logged
        assert f"expire_at {seconds + 86_400} looks like seconds" in logged
        # The unfinished task and its values were saved: the next start is fine.
        again = make_app(sim_server, data_dir, clock)
        async with again.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: again.records["huge"].task is not None)
            await wait_for(pilot, lambda: "Big" in screen_text(again))
    finally:
        logs.teardown()


async def test_invisible_and_bidi_characters_in_titles_are_made_visible(
    sim_server, data_dir: Path, clock: FakeClock
) -> None:
    title = "A\u200bB\u061cC\ufeffD\u202eE 👨\u200d👩\u200d👧"  # the joiners stay: emoji
    sim_server.sim.book.override(
        "inv", {"id": "inv", "status": "completed", "results": [{"id": "c", "title": title}]}
    )
    app = make_app(sim_server, data_dir, clock, ids=["inv"])
    async with app.run_test(size=(160, 40)) as pilot:
        shown = "A\\u200bB\\u061cC\\ufeffD\\u202eE 👨\u200d👩\u200d👧"
        await wait_for(pilot, lambda: shown in region_text(app, app.main.detail))
        assert "\u200b" not in screen_text(app) and "\u202e" not in screen_text(app)
