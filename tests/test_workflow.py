"""Working with many tasks: marks and ranges, one-key views, sorting, the
footer, esc, quitting during downloads and choices remembered across restarts.
Keys are pressed against the real simulator; assertions read the screen."""

from __future__ import annotations

import json

from tui.simulator import Fault

from .harness import SIZE, loaded, make_app, notifications, region_text, screen_text, wait_for

FINISHED = {"queued_for": 0, "processing_for": 0, "expiries": ("week",)}


def seed(sim_server, *plans: tuple[str, dict]) -> list[str]:
    for task_id, plan in plans:
        sim_server.sim.book.seed(task_id, **{**FINISHED, **plan})
    return [task_id for task_id, _ in plans]


async def polled(pilot, app) -> None:
    """Every record has been answered and its row drawn."""
    await wait_for(pilot, lambda: app.loaded and all(r.task for r in app.records.values()))
    await wait_for(pilot, lambda: not app.main.table._pending)
    await pilot.pause()


def title(app) -> str:
    return str(app.main.table.border_title)


async def test_esc_clears_a_kept_filter(sim_server, data_dir, clock) -> None:
    """Defect: `/north`, enter, esc (twice) still showed "filter: north"."""
    ids = seed(
        sim_server,
        ("t-north", {"outcome": "completed"}),
        ("t-south", {"outcome": "completed"}),
    )
    app = make_app(sim_server, data_dir, clock, ids=ids)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        await pilot.press("slash", *"north", "enter")
        await wait_for(pilot, lambda: "filter: north" in title(app))
        assert app.main.table.has_focus and app.main.table.row_count == 1
        await pilot.press("escape")
        await wait_for(pilot, lambda: "filter" not in title(app))
        assert title(app) == "Tasks (2)" and app.main.table.row_count == 2
        assert "t-south" in screen_text(app)


async def test_marks_ranges_and_one_undo_for_a_bulk_remove(sim_server, data_dir, clock) -> None:
    ids = [f"m{i}" for i in range(8)]
    seed(sim_server, *((i, {"outcome": "completed"}) for i in ids))
    app = make_app(sim_server, data_dir, clock, ids=ids)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        table = app.main.table
        await pilot.press("space", "space")  # m0, m1 marked; the cursor moved on
        assert table.marked() == ["m0", "m1"] and table.highlighted_id == "m2"
        assert "2 marked" in title(app)
        await pilot.press("j", "j", "v", "j", "j")  # a range from m4 to m6
        assert "5 marked" in title(app) and "range" in title(app)
        await pilot.press("v")
        assert table.marked() == ["m0", "m1", "m4", "m5", "m6"]
        rows = region_text(app, table).splitlines()
        marked_rows = [line for line in rows if "▌m" in line]
        assert len(marked_rows) == 5  # the marker shows on exactly those rows
        await pilot.press("x")
        await wait_for(pilot, lambda: set(app.records) == {"m2", "m3", "m7"})
        assert notifications(app)[-1] == "Removed 5 tasks. Press u to undo."
        assert title(app) == "Tasks (3)"
        await pilot.press("u")  # one undo brings all five back, in their places
        await wait_for(pilot, lambda: list(app.records) == ids)
        assert notifications(app)[-1] == "Restored 5 tasks."
        assert table.row_ids() == ids
        await pilot.press("ctrl+a")
        assert table.marked() == ids and "8 marked" in title(app)
        await pilot.press("escape")  # esc clears marks first
        assert table.marked() == [] and "marked" not in title(app)


async def test_marked_tasks_download_together(sim_server, data_dir, clock, music) -> None:
    ids = seed(
        sim_server,
        ("d1", {"outcome": "completed", "expiries": ("week", "week")}),
        ("d2", {"outcome": "completed"}),
        ("d3", {"outcome": "completed"}),
    )
    app = make_app(sim_server, data_dir, clock, ids=ids, download_dir=music)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        await pilot.press("space", "space", "D")
        assert "Downloading 3 clips of 2 marked tasks." in notifications(app)
        await wait_for(pilot, lambda: len(app.records["d1"].downloads) == 2, timeout=10)
        await wait_for(pilot, lambda: len(app.records["d2"].downloads) == 1, timeout=10)
        assert app.records["d3"].downloads == {}
        await wait_for(pilot, lambda: "2↓" in app.main.table.cells("d1")["clips"].plain)
        # One notification for the lot, not one per file.
        saved = lambda: [n for n in notifications(app) if n.startswith("Saved 3 files in ")]  # noqa: E731
        await wait_for(pilot, saved)
        assert not [n for n in notifications(app) if n.startswith("Saved /")]


async def test_quick_views_and_sort_survive_a_restart(sim_server, data_dir, clock) -> None:
    ids = seed(
        sim_server,
        ("v-done", {"outcome": "completed"}),
        ("v-failed", {"outcome": "failed"}),
        ("v-soon", {"outcome": "completed", "expiries": ("minutes",)}),
        ("v-running", {"queued_for": 1000, "outcome": "completed"}),
    )
    app = make_app(sim_server, data_dir, clock, ids=ids)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        table = app.main.table
        expected = {
            "2": ({"v-running"}, "view: active"),
            "3": ({"v-done", "v-soon"}, "view: completed"),
            "4": ({"v-failed"}, "view: failed"),
            "5": ({"v-soon"}, "view: expiring soon, not saved"),
        }
        for key, (rows, label) in expected.items():
            await pilot.press(key)
            assert set(table.row_ids()) == rows, key
            assert label in title(app)
        await pilot.press("1")
        assert set(table.row_ids()) == set(ids) and "view" not in title(app)
        app.clear_notifications()
        await pilot.press("4", "S", "s")  # failed view, reversed, then the next sort
        assert "sort: created ▲" in str(table.border_subtitle)
        assert notifications(app) == []  # the border says it; no popup repeats it
        await pilot.press("S")
        assert "▼" in str(table.border_subtitle)
        await wait_for(pilot, lambda: (data_dir / "ui.json").exists())
    state = json.loads((data_dir / "ui.json").read_text())
    assert state["view"] == "failed" and state["reverse"] is True

    again = make_app(sim_server, data_dir, clock)
    async with again.run_test(size=SIZE) as pilot:
        await polled(pilot, again)
        assert "view: failed" in title(again)
        assert again.main.table.row_ids() == ["v-failed"]
        assert "▼" in str(again.main.table.border_subtitle)


async def test_a_click_on_a_header_sorts_by_it_and_again_reverses(
    sim_server, data_dir, clock
) -> None:
    ids = seed(
        sim_server,
        ("s-b", {"outcome": "completed"}),
        ("s-c", {"outcome": "completed"}),
        ("s-a", {"outcome": "completed"}),
    )
    app = make_app(sim_server, data_dir, clock, ids=ids)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        table = app.main.table
        await pilot.click(table, offset=(3, 1))  # the "Task ID" header (inside the border)
        await wait_for(pilot, lambda: table.row_ids() == ["s-a", "s-b", "s-c"])
        assert "Task ID▲" in region_text(app, table)
        await pilot.click(table, offset=(3, 1))
        await wait_for(pilot, lambda: table.row_ids() == ["s-c", "s-b", "s-a"])
        assert "Task ID▼" in region_text(app, table) and "sort: id ▼" in region_text(app, table)


async def test_theme_chosen_in_the_app_is_remembered(sim_server, data_dir, clock) -> None:
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        app.theme = "textual-light"  # as the palette's "Change theme" does
        state = data_dir / "ui.json"
        await wait_for(
            pilot,
            lambda: state.exists() and json.loads(state.read_text())["theme"] == "textual-light",
        )
    again = make_app(sim_server, data_dir, clock)
    async with again.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert again.theme == "textual-light"


async def test_footer_keeps_help_and_quit_and_follows_focus(sim_server, data_dir, clock) -> None:
    ids = seed(sim_server, ("f1", {"outcome": "completed"}))
    for size in ((80, 24), (100, 30)):
        app = make_app(sim_server, data_dir, clock, ids=ids)
        async with app.run_test(size=size) as pilot:
            await polled(pilot, app)
            # The footer is rebuilt once per burst of binding changes: wait for it.
            await wait_for(pilot, lambda a=app: "a Add" in screen_text(a).splitlines()[-1])
            footer = screen_text(app).splitlines()[-1]
            assert "? Help" in footer and "q Quit" in footer, footer
            assert "a Add" in footer and "] Next" not in footer
            await pilot.press("enter")  # the detail pane: the clip keys
            await wait_for(pilot, lambda a=app: "] Next" in screen_text(a).splitlines()[-1])
            footer = screen_text(app).splitlines()[-1]
            assert "? Help" in footer and "q Quit" in footer and "a Add" not in footer
            # Typing a filter, q and ? are letters: the footer says how typing ends.
            await pilot.press("escape", "slash")
            await wait_for(pilot, lambda a=app: "Keep filter" in screen_text(a).splitlines()[-1])
            assert "esc Clear filter" in screen_text(app).splitlines()[-1]
            await pilot.press("escape", "l")  # a dialog's footer has its own keys
            await wait_for(pilot, lambda a=app: "c Copy line" in screen_text(a).splitlines()[-1])
            assert "a Add" not in screen_text(app).splitlines()[-1]


async def test_quit_during_a_download_asks_and_can_wait(sim_server, data_dir, clock, music) -> None:
    ids = seed(sim_server, ("q1", {"outcome": "completed"}))
    app = make_app(sim_server, data_dir, clock, ids=ids, download_dir=music)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        clip = app.records["q1"].task.results[0]
        sim_server.sim.file_faults[clip.id] = Fault.slow_file(0.15)  # an eighth every 150 ms
        await pilot.press("d")
        await wait_for(pilot, lambda: len(app.downloads) == 1)
        await pilot.press("q")
        await wait_for(pilot, lambda: "1 download not finished" in screen_text(app))
        await pilot.press("escape")  # stay
        await wait_for(pilot, lambda: "not finished" not in screen_text(app))
        assert app.is_running and len(app.downloads) == 1
        await pilot.press("q", "w")  # wait, then quit
        await wait_for(pilot, lambda: not app.is_running, timeout=10)
    assert app.records["q1"].downloads  # the file was saved before quitting
    assert any(p.suffix == ".mp3" for p in music.rglob("*"))


async def test_quit_anyway_drops_the_download(sim_server, data_dir, clock, music) -> None:
    ids = seed(sim_server, ("q2", {"outcome": "completed"}))
    app = make_app(sim_server, data_dir, clock, ids=ids, download_dir=music)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        clip = app.records["q2"].task.results[0]
        sim_server.sim.file_faults[clip.id] = Fault.slow_file(5)
        await pilot.press("d")
        await wait_for(pilot, lambda: len(app.downloads) == 1)
        await pilot.press("q")
        await wait_for(pilot, lambda: "not finished" in screen_text(app))
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running)
    assert not any(p.suffix == ".mp3" for p in music.rglob("*"))


async def test_filter_says_when_another_clip_matched(sim_server, data_dir, clock) -> None:
    ids = seed(sim_server, ("fm", {"outcome": "completed", "expiries": ("week", "week")}))
    app = make_app(sim_server, data_dir, clock, ids=ids)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        clips = app.records["fm"].task.results
        first, second = clips[0].title, clips[1].title
        needle = next(
            word for word in second.lower().split() if word not in first.lower()
        )  # in the second clip's title only
        await pilot.press("slash", *needle)
        await wait_for(pilot, lambda: "+1 match" in region_text(app, app.main.table))
        assert first.split()[0] in region_text(app, app.main.table)


async def test_running_rows_show_elapsed_time_and_a_spinner(sim_server, data_dir, clock) -> None:
    seed(sim_server, ("run1", {"queued_for": 0, "processing_for": 1000, "outcome": "completed"}))
    app = make_app(sim_server, data_dir, clock, ids=["run1"])
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        table = app.main.table
        first = table.cells("run1")["status"].plain
        took = table.cells("run1")["took"].plain
        clock.advance(5)
        await wait_for(pilot, lambda: table.cells("run1")["took"].plain != took)
        assert table.cells("run1")["status"].plain != first  # the spinner turned
        assert table.cells("run1")["status"].plain.endswith("processing")


async def test_a_click_on_a_row_selects_that_row(sim_server, data_dir, clock) -> None:
    ids = seed(sim_server, *((f"c{i}", {"outcome": "completed"}) for i in range(4)))
    app = make_app(sim_server, data_dir, clock, ids=ids)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        # Line 0 of the widget is its border, line 1 the header, line 2 the first row.
        await pilot.click(app.main.table, offset=(5, 4))
        assert app.main.table.highlighted_id == "c2"


async def test_c_copies_the_marked_ids_one_per_line(
    sim_server, data_dir, clock, tmp_path, monkeypatch
) -> None:
    got = tmp_path / "clipboard.txt"
    tool = tmp_path / "fake-clipboard"
    tool.write_text(f'#!/bin/sh\ncat > "{got}"\n')
    tool.chmod(0o755)
    monkeypatch.setenv("MUSICMINT_CLIPBOARD", str(tool))
    ids = seed(sim_server, *((f"cp{i}", {"outcome": "completed"}) for i in range(3)))
    app = make_app(sim_server, data_dir, clock, ids=ids)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        await pilot.press("space", "j", "space", "c")
        await wait_for(pilot, lambda: "Copied 2 task IDs" in notifications(app)[-1])
        assert got.read_text() == "cp0\ncp2"


async def test_columns_grow_once_a_cell_needs_it(sim_server, data_dir, clock) -> None:
    """Most lists never show "6d 23h (1 exp)": the expires column keeps its
    usual width (room for titles) until a row needs more, then grows."""
    ids = seed(sim_server, ("g1", {"outcome": "completed"}))
    app = make_app(sim_server, data_dir, clock, ids=ids)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        table = app.main.table
        assert table.widths["expires"] == 8
        seed(sim_server, ("g2", {"outcome": "completed", "expiries": ("expired", "week")}))
        await pilot.press("a")
        app.screen.query_one("#add-input").insert("g2")
        await pilot.press("enter")
        await wait_for(pilot, lambda: table.widths["expires"] >= len("7d 0h (1 exp)"))
        await wait_for(pilot, lambda: "7d 0h (1 exp)" in region_text(app, table))


async def test_the_expiring_warning_leads_to_its_view(sim_server, data_dir, clock) -> None:
    ids = seed(
        sim_server,
        ("w-soon", {"outcome": "completed", "expiries": ("minutes",)}),
        ("w-later", {"outcome": "completed"}),
    )
    app = make_app(sim_server, data_dir, clock, ids=ids)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        await wait_for(pilot, lambda: "⚠ 1 clip expiring soon" in screen_text(app).splitlines()[0])
        bar = screen_text(app).splitlines()[0]
        await pilot.click(app.main.status_bar, offset=(bar.index("⚠") + 2, 0))
        await wait_for(pilot, lambda: app.main.table.row_ids() == ["w-soon"])
        assert "view: expiring soon, not saved" in title(app)


async def test_wait_then_quit_never_outlives_its_downloads(sim_server, data_dir, clock, music):
    """Downloads that ended while the question was open: "wait" quits now
    (it once stayed armed, and quit at some later, unrelated download). A
    download that fails while waiting keeps the app open, saying why."""
    ids = seed(sim_server, ("q3", {"outcome": "completed", "expiries": ("week", "week")}))
    app = make_app(sim_server, data_dir, clock, ids=ids, download_dir=music)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        first, second = app.records["q3"].task.results
        # The audio only: a slow cover too (fetched first, for the tags) would
        # double the time this test waits.
        sim_server.sim.file_faults[f"{first.id}.mp3"] = Fault.slow_file(0.2)
        sim_server.sim.file_faults[second.id] = Fault.html_error(404)  # fails for good
        await pilot.press("d")  # the first clip
        await wait_for(pilot, lambda: len(app.downloads) == 1)
        await pilot.press("q")
        await wait_for(pilot, lambda: "not finished" in screen_text(app))
        await pilot.press("w")
        await pilot.press("right_square_bracket", "d")  # the second clip, while waiting
        await wait_for(pilot, lambda: any("Not quitting" in n for n in notifications(app)))
        await wait_for(pilot, lambda: not len(app.downloads), timeout=10)
        assert app.is_running
        # Again, and the downloads end while the question is open.
        sim_server.sim.file_faults[second.id] = Fault.slow_file(5)
        app.main.clips.download(app.records["q3"], [1])
        await pilot.press("q")
        await wait_for(pilot, lambda: "1 download not finished" in screen_text(app))
        app.downloads.cancel_all()
        await wait_for(pilot, lambda: "The downloads have finished: q quits." in screen_text(app))
        await pilot.press("w")
        await wait_for(pilot, lambda: not app.is_running)


async def test_marks_the_view_hides_are_still_counted(sim_server, data_dir, clock) -> None:
    ids = seed(
        sim_server,
        ("h-done", {"outcome": "completed"}),
        ("h-failed", {"outcome": "failed"}),
    )
    app = make_app(sim_server, data_dir, clock, ids=ids)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        await pilot.press("ctrl+a", "3")  # both marked; the completed view shows one
        assert "1 marked (+1 not shown)" in title(app)
        await pilot.press("ctrl+a")  # "again: none" for the shown row; the hidden mark stays
        assert "0 marked (+1 not shown)" in title(app)
        await pilot.press("x")  # nothing marked is shown: x acts on the highlighted row
        await wait_for(pilot, lambda: "h-done" not in app.records)
        assert "h-failed" in app.records  # never removed while not shown
        await pilot.press("escape")
        assert "marked" not in title(app)


async def test_after_a_big_paste_the_last_added_row_is_on_screen(sim_server, data_dir, clock):
    app = make_app(sim_server, data_dir, clock, ids=["first"])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("a")
        app.screen.query_one("#add-input").insert(" ".join(f"big{i:04d}" for i in range(300)))
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.records) == 301)
        await wait_for(pilot, lambda: "big0299" in region_text(app, app.main.table))
        assert app.main.table.highlighted_id == "big0299"


async def test_keys_typed_right_after_a_go_into_the_add_dialog(sim_server, data_dir, clock):
    ids = seed(sim_server, ("k1", {"outcome": "completed"}))
    app = make_app(sim_server, data_dir, clock, ids=ids)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        await pilot.press("a", "i", "l")
        await wait_for(pilot, lambda: app.screen.query("#add-input"))
        assert app.screen.query_one("#add-input").text == "il"
        assert not [n for n in notifications(app) if "Opening" in n]


async def test_the_footer_does_not_offer_the_view_already_shown(sim_server, data_dir, clock):
    ids = seed(sim_server, ("fv", {"outcome": "completed", "expiries": ("minutes",)}))
    app = make_app(sim_server, data_dir, clock, ids=ids)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        assert "5 Expiring" in screen_text(app).splitlines()[-1]
        await pilot.press("5")
        await wait_for(pilot, lambda: "5 Expiring" not in screen_text(app).splitlines()[-1])
        await pilot.press("1")
        await wait_for(pilot, lambda: "5 Expiring" in screen_text(app).splitlines()[-1])
