"""The dashboard driven by keys against the real simulator, asserting on the screen."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from rich.cells import cell_len

from tui.services.store import DB_NAME, TaskStore
from tui.simulator import Fault, SimulatorServer

from .conftest import FakeClock
from .harness import SIZE, loaded, make_app, notifications, region_text, screen_text, wait_for


async def test_paste_several_ids_with_invalid_and_duplicate(sim_server, data_dir, clock) -> None:
    app = make_app(sim_server, data_dir, clock, ids=["known1"])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("a")
        area = app.screen.query_one("#add-input")
        area.insert("alpha1, beta2\ngamma3 known1 bad/id alpha1 ../etc")
        await pilot.pause()
        text = screen_text(app)
        assert "3 new" in text
        assert "1 already tracked (known1)" in text
        assert "1 repeated in the paste" in text
        assert "invalid 'bad/id'" in text and "path character" in text
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.records) == 4)
        await wait_for(pilot, lambda: "gamma3" in screen_text(app))
        text = screen_text(app)
        for task_id in ("alpha1", "beta2", "gamma3", "known1"):
            assert task_id in text
        await wait_for(pilot, lambda: "gamma3" in screen_text(app))
        # One line: the dialog already said which and why.
        assert notifications(app)[-1] == "Added 3 tasks; 1 already tracked; 2 skipped as invalid."


async def test_pasted_urls_and_a_json_answer_give_their_task_ids(
    sim_server, data_dir, clock
) -> None:
    for task_id in ("zzzz9999", "qp1", "gen7"):
        sim_server.sim.book.seed(task_id, queued_for=1000)
    app = make_app(sim_server, data_dir, clock, ids=["known1"])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("a")
        app.screen.query_one("#add-input").insert(
            "https://musicmint.example/task/zzzz9999/?ref=share#player\n"
            "https://musicmint.example/share?task_id=qp1\n"
            '{"code": 0, "message": "success", "data": {"task_id": "gen7"}}\n'
            "https://musicmint.example/task/known1 https://musicmint.example/about.html"
        )
        await pilot.pause()
        shown = region_text(app, app.screen.query_one("#add-feedback")).splitlines()
        feedback = " ".join(line.strip() for line in shown)  # the dialog wraps long lines
        assert feedback.startswith(
            "Extracted 4 IDs from 3 URLs and 1 JSON response 3 new 1 already tracked (known1) "
            "invalid 'https://musicmint.example/about.html': no task ID in this URL"
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.records) == 4)
        for task_id in ("zzzz9999", "qp1", "gen7"):
            await wait_for(pilot, lambda t=task_id: app.records[t].status == "queuing")
        assert notifications(app)[-1] == (
            "Added 3 tasks (2 from URLs, 1 from JSON); 1 already tracked; 1 skipped as invalid."
        )


async def test_add_dialog_refuses_only_invalid(sim_server, data_dir, clock) -> None:
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        app.screen.query_one("#add-input").insert("no/slashes")
        await pilot.press("enter")
        assert app.screen.id != "_default" and "#add-input" in repr(app.screen.query("#add-input"))
        assert "invalid 'no/slashes'" in screen_text(app)
        await pilot.press("escape")
        assert app.records == {}
        assert sim_server.sim.requests == []


async def test_statuses_progress_without_keypresses(sim_server, data_dir, clock: FakeClock) -> None:
    book = sim_server.sim.book
    book.seed("goes-ok", queued_for=10, processing_for=10, outcome="completed")
    book.seed("goes-bad", queued_for=10, processing_for=10, outcome="failed")
    app = make_app(sim_server, data_dir, clock, ids=["goes-ok", "goes-bad"])
    async with app.run_test(size=SIZE) as pilot:
        records = app.records
        await wait_for(pilot, lambda: {r.status for r in records.values()} == {"queuing"})
        await wait_for(pilot, lambda: screen_text(app).count("◷ queuing") >= 2)
        clock.advance(11)
        await wait_for(pilot, lambda: {r.status for r in records.values()} == {"processing"})
        # The glyph turns (◐◓◑◒) while the server works.
        await wait_for(pilot, lambda: len(re.findall("[◐◓◑◒] processing", screen_text(app))) >= 2)
        clock.advance(10)
        await wait_for(pilot, lambda: records["goes-ok"].finished and records["goes-bad"].finished)
        await wait_for(pilot, lambda: "✔ 1 completed" in screen_text(app))  # status bar
        await wait_for(
            pilot, lambda: "✘ failed" in app.main.table.cells("goes-bad")["status"].plain
        )
        await pilot.pause()
        text = screen_text(app)
        assert "✔ completed" in text and "✘ failed" in text
        assert "✘ 1 failed" in text
        await wait_for(pilot, lambda: any("goes-bad failed" in n for n in notifications(app)))
        notes = notifications(app)
        assert any("completed" in n for n in notes) and any("goes-bad failed" in n for n in notes)
        # Finished tasks are not polled again: the poller has let go of them (that
        # an untracked task is never sent is proved in virtual time in test_poller).
        assert app.poller.tracked.isdisjoint({"goes-ok", "goes-bad"})


async def test_detail_pane_shows_every_field(sim_server, data_dir, clock) -> None:
    sim_server.sim.book.seed("two", outcome="completed", expiries=("week", "minutes"), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["two"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["two"].status == "completed")
        await pilot.pause()
        task = app.records["two"].task
        assert task is not None
        text = screen_text(app)
        for label in (
            "Task",
            "Status",
            "Created",
            "Polled",
            "Clip ID",
            "Length",
            "Tags",
            "Expires",
            "Audio",
            "Cover",
            "Prompt",
        ):
            assert label in text
        first = task.results[0]
        assert first.title in text and first.id in text and first.tags in text
        assert "Clip 1/2" in text and "Clip 2/2" in text
        assert "6d 23h" in text  # the week-long clip's countdown


async def test_countdown_changes_between_frames(sim_server, data_dir, clock: FakeClock) -> None:
    sim_server.sim.book.seed("soon", outcome="completed", expiries=("minutes",), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["soon"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["soon"].status == "completed")
        expire_at = app.records["soon"].task.results[0].expire_at / 1000
        clock.now = expire_at - 65
        await wait_for(pilot, lambda: "1m 05s" in screen_text(app))
        clock.advance(2)
        await wait_for(pilot, lambda: "1m 03s" in screen_text(app))
        clock.now = expire_at + 1
        await wait_for(
            pilot,
            lambda: (
                "expired" in app.main.detail.query_one(".clip").render().__str__()
                or "expired" in screen_text(app)
            ),
        )


async def test_open_audio_and_cover_use_the_browser(
    sim_server, data_dir, clock, browser_log: Path
) -> None:
    sim_server.sim.book.seed("two", outcome="completed", expiries=("week", "week"), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["two"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["two"].status == "completed")
        clips = app.records["two"].task.results
        await pilot.press("o")
        await wait_for(pilot, lambda: browser_log.exists())
        await pilot.press("right_square_bracket", "i")
        await wait_for(pilot, lambda: len(browser_log.read_text().splitlines()) == 2)
        assert browser_log.read_text().splitlines() == [clips[0].audio_url, clips[1].image_url]


async def test_javascript_url_is_refused(sim_server, data_dir, clock, browser_log: Path) -> None:
    sim_server.sim.book.override(
        "evil",
        {
            "id": "evil",
            "status": "completed",
            "created_at": 1,
            "results": [
                {
                    "id": "c1",
                    "title": "x",
                    "audio_url": "javascript:alert(1)",
                    "image_url": "file:///etc/passwd",
                    "expire_at": 0,
                }
            ],
        },
    )
    app = make_app(sim_server, data_dir, clock, ids=["evil"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["evil"].status == "completed")
        await pilot.press("o")
        await pilot.press("i")
        await wait_for(pilot, lambda: len(notifications(app)) >= 2)
        notes = notifications(app)
        assert any("not javascript:" in n for n in notes)
        assert any("not file:" in n for n in notes)
        assert not browser_log.exists()


def clipboard_command(tmp_path: Path, body: str) -> Path:
    """A stand-in clipboard tool: a shell script run with the text on stdin."""
    script = tmp_path / "fake-clipboard"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return script


async def test_without_a_clipboard_tool_copy_says_it_only_sent_osc52(
    sim_server, data_dir, clock
) -> None:
    """conftest sets MUSICMINT_CLIPBOARD=none: OSC 52 is all there is, and
    OSC 52 cannot be confirmed, so nothing may claim "Copied"."""
    sim_server.sim.book.seed("cp", outcome="completed", age=60)
    app = make_app(sim_server, data_dir, clock, ids=["cp"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["cp"].status == "completed")
        await pilot.press("c")
        assert app.clipboard == "cp"
        assert notifications(app)[-1] == (
            "Sent task ID cp to the terminal clipboard (OSC 52; your terminal may not accept it)."
        )
        await pilot.press("y")
        url = app.records["cp"].task.results[0].audio_url
        assert app.clipboard == url
        assert notifications(app)[-1].startswith("Sent the audio URL to the terminal clipboard")
        assert notifications(app)[-1].endswith(url)
        assert not any("Copied" in n for n in notifications(app))


async def test_a_clipboard_tool_that_succeeds_says_copied(
    sim_server, data_dir, clock, tmp_path, monkeypatch
) -> None:
    got = tmp_path / "clipboard.txt"
    monkeypatch.setenv("MUSICMINT_CLIPBOARD", str(clipboard_command(tmp_path, f'cat > "{got}"')))
    sim_server.sim.book.seed("cp", outcome="completed", age=60)
    app = make_app(sim_server, data_dir, clock, ids=["cp"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["cp"].status == "completed")
        await pilot.press("c")
        await wait_for(pilot, lambda: notifications(app)[-1] == "Copied task ID cp.")
        assert got.read_text() == "cp"
        assert app.clipboard == "cp"  # what ctrl+v pastes inside the app follows
        await pilot.press("y")
        url = app.records["cp"].task.results[0].audio_url
        await wait_for(pilot, lambda: notifications(app)[-1] == f"Copied the audio URL: {url}")
        assert got.read_text() == url  # the whole URL, as the server sent it
        assert url.startswith("http") and "…" not in url
        assert not any("OSC 52" in n for n in notifications(app))


async def test_a_failing_clipboard_tool_falls_back_to_osc52_and_says_why(
    sim_server, data_dir, clock, tmp_path, monkeypatch
) -> None:
    failing = clipboard_command(tmp_path, 'echo "Error: Can\'t open display: :9" >&2; exit 1')
    monkeypatch.setenv("MUSICMINT_CLIPBOARD", str(failing))
    sim_server.sim.book.seed("cp", outcome="completed", age=60)
    app = make_app(sim_server, data_dir, clock, ids=["cp"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["cp"].status == "completed")
        await pilot.press("c")
        await wait_for(pilot, lambda: "OSC 52" in notifications(app)[-1])
        assert notifications(app)[-1] == (
            "MUSICMINT_CLIPBOARD failed (exit status 1: Error: Can't open display: :9); "
            "sent task ID cp to the terminal clipboard (OSC 52; your terminal may not accept it)."
        )
        assert app.clipboard == "cp"


async def test_a_missing_clipboard_tool_falls_back_to_osc52(
    sim_server, data_dir, clock, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("MUSICMINT_CLIPBOARD", str(tmp_path / "no-such-tool"))
    sim_server.sim.book.seed("cp", outcome="completed", age=60)
    app = make_app(sim_server, data_dir, clock, ids=["cp"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["cp"].status == "completed")
        await pilot.press("y")
        await wait_for(pilot, lambda: "OSC 52" in notifications(app)[-1])
        url = app.records["cp"].task.results[0].audio_url
        note = notifications(app)[-1]
        assert note.startswith(
            f"MUSICMINT_CLIPBOARD failed ({tmp_path / 'no-such-tool'} not found)"
        )
        assert note.endswith(
            f"sent the audio URL to the terminal clipboard "
            f"(OSC 52; your terminal may not accept it): {url}"
        )
        assert app.clipboard == url


async def test_copy_audio_before_results_explains(sim_server, data_dir, clock) -> None:
    sim_server.sim.book.seed("slow", queued_for=1000)
    app = make_app(sim_server, data_dir, clock, ids=["slow"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["slow"].status == "queuing")
        await pilot.press("y")
        assert "has no clips yet (queuing)" in notifications(app)[-1]
        assert app.clipboard == ""


async def test_remove_and_undo(sim_server, data_dir, clock) -> None:
    for i in range(3):
        sim_server.sim.book.seed(f"t{i}", outcome="completed", age=60)
    app = make_app(sim_server, data_dir, clock, ids=["t0", "t1", "t2"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot,
            lambda: (
                len(app.records) == 3 and all(r.status == "completed" for r in app.records.values())
            ),
        )
        await wait_for(pilot, lambda: app.main.table.row_count == 3)
        await pilot.press("down", "x")
        assert "t1" not in app.records
        assert "t1" not in app.main.table.shown
        assert "Press u to undo" in notifications(app)[-1]
        await pilot.press("u")
        assert app.main.table.row_ids() == ["t0", "t1", "t2"]
        assert app.main.table.highlighted_id == "t1"
        await pilot.press("delete")
        assert "t1" not in app.records


async def test_filter_and_sort(sim_server, data_dir, clock) -> None:
    book = sim_server.sim.book
    book.seed("aaa-done", outcome="completed", age=300)
    book.seed("bbb-fail", outcome="failed", age=600)
    book.seed("ccc-wait", queued_for=1000, age=10)
    app = make_app(sim_server, data_dir, clock, ids=["aaa-done", "bbb-fail", "ccc-wait"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot,
            lambda: (
                app.records["ccc-wait"].status == "queuing"
                and app.records["bbb-fail"].status == "failed"
            ),
        )
        await pilot.press("slash")
        await pilot.press(*"fail")
        await pilot.pause()
        assert app.main.table.row_ids() == ["bbb-fail"]
        assert "1 of 3" in screen_text(app)
        await pilot.press("enter")
        assert app.main.table.has_focus and app.main.table.row_ids() == ["bbb-fail"]
        await pilot.press("slash", "escape")
        assert app.main.table.row_ids() == ["aaa-done", "bbb-fail", "ccc-wait"]
        await pilot.press("s")  # created: newest first
        assert app.main.table.row_ids() == ["ccc-wait", "aaa-done", "bbb-fail"]
        await pilot.press("s")  # status: working first, completed last
        assert app.main.table.row_ids() == ["ccc-wait", "bbb-fail", "aaa-done"]
        assert "sort: status" in screen_text(app)


async def test_filter_narrows_as_you_type_widens_on_delete_and_follows_changes(
    sim_server, data_dir, clock: FakeClock
) -> None:
    book = sim_server.sim.book
    book.seed("aaa-done", outcome="completed", age=300)
    book.seed("abc-later", queued_for=10, processing_for=10, outcome="completed")
    book.seed("bbb-fail", outcome="failed", age=600)
    ids = ["aaa-done", "abc-later", "bbb-fail"]
    app = make_app(sim_server, data_dir, clock, ids=ids)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.table
        await wait_for(pilot, lambda: app.records["abc-later"].status == "queuing", timeout=10)
        await wait_for(pilot, lambda: app.records["bbb-fail"].status == "failed", timeout=10)
        await pilot.press("slash", "a")
        await wait_for(pilot, lambda: table.row_ids() == ids)  # all three have an "a"
        await pilot.press("a")
        await wait_for(pilot, lambda: table.row_ids() == ["aaa-done"])
        await pilot.press("backspace")  # wider again: every match, in sort order
        await wait_for(pilot, lambda: table.row_ids() == ids)
        await pilot.press("backspace", *"completed")
        await wait_for(pilot, lambda: table.row_ids() == ["aaa-done"])
        clock.advance(21)  # abc-later completes: its row joins the filtered list
        await wait_for(pilot, lambda: table.row_ids() == ["aaa-done", "abc-later"], timeout=10)
        # The title follows once the table says its rows changed (a message later).
        await wait_for(pilot, lambda: "2 of 3" in screen_text(app))


async def test_a_row_hidden_by_the_filter_shows_its_news_when_it_comes_back(
    sim_server, data_dir, clock: FakeClock
) -> None:
    sim_server.sim.book.seed("xyz-2", queued_for=10, processing_for=1, outcome="completed")
    sim_server.sim.book.seed("aaa-1", queued_for=1000)
    app = make_app(sim_server, data_dir, clock, ids=["aaa-1", "xyz-2"])
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.table
        await wait_for(pilot, lambda: "queuing" in table.cells("xyz-2")["status"].plain)
        await pilot.press("slash", *"aaa")
        await wait_for(pilot, lambda: table.row_ids() == ["aaa-1"])
        seen = table._versions.get("xyz-2", 0)
        clock.advance(20)  # xyz-2 completes while it is hidden
        await wait_for(pilot, lambda: app.records["xyz-2"].finished)
        # The update reached the table (a finished record alone does not say so:
        # its message may still be queued when nothing is pending yet).
        await wait_for(pilot, lambda: table._versions.get("xyz-2", 0) > seen)
        await wait_for(pilot, lambda: not table._pending)
        await pilot.press("escape")
        await wait_for(pilot, lambda: table.row_ids() == ["aaa-1", "xyz-2"])
        line = next(x for x in screen_text(app).splitlines() if "xyz-2" in x)
        assert "completed" in line and "queuing" not in line


async def test_slash_opens_the_filter_from_anywhere_and_types_itself_inside_it(
    sim_server, data_dir, clock
) -> None:
    """``/`` is a priority binding (checked before the key reaches the focused
    widget); inside the filter it must still type a slash."""
    app = make_app(sim_server, data_dir, clock, ids=["a-1"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")  # the detail pane has focus
        await pilot.press("slash")
        assert app.main.filter_input.has_focus
        await pilot.press("a", "slash", "b")
        assert app.main.filter_input.value == "a/b"
        assert "filter: a/b" in screen_text(app)


async def test_keys_typed_right_after_slash_go_into_the_filter(sim_server, data_dir, clock) -> None:
    """A fast typist's "/de": the keys are queued before the filter has focus;
    they once reached the table, where d starts a download."""
    from textual import events

    sim_server.sim.book.seed("dl-1", outcome="completed", age=60)
    app = make_app(sim_server, data_dir, clock, ids=["dl-1"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["dl-1"].finished)
        for key, character in (("slash", "/"), ("d", "d"), ("e", "e")):
            app.post_message(events.Key(key, character))  # as the driver does: no waiting
        await wait_for(pilot, lambda: app.main.filter_input.value == "de")
        assert len(app.downloads) == 0


async def test_refresh_polls_a_finished_task_again(sim_server, data_dir, clock) -> None:
    sim_server.sim.book.seed("fin", outcome="completed", age=60)
    app = make_app(sim_server, data_dir, clock, ids=["fin"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["fin"].status == "completed")
        before = len(sim_server.sim.task_requests("fin"))
        await pilot.press("r")
        await wait_for(pilot, lambda: len(sim_server.sim.task_requests("fin")) == before + 1)
        await pilot.press("P")
        assert notifications(app)[-1].startswith("Nothing to poll: every tracked task has finished")


async def test_restart_keeps_list_and_shows_finished_without_requests(
    sim_server, data_dir, clock, tmp_path
) -> None:
    book = sim_server.sim.book
    book.seed("keep-ok", outcome="completed", age=60)
    book.seed("keep-bad", outcome="failed", age=60)
    app = make_app(sim_server, data_dir, clock, ids=["keep-ok", "keep-bad"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot, lambda: len(app.records) == 2 and all(r.finished for r in app.records.values())
        )
        title = app.records["keep-ok"].task.results[0].title
        await pilot.press("q")
    assert (data_dir / DB_NAME).exists()

    fresh = SimulatorServer(type(sim_server.sim)(api_key=sim_server.sim.api_key, clock=clock))
    with fresh:
        again = make_app(fresh, data_dir, clock)
        async with again.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "keep-bad" in screen_text(again))
            assert again.poller.tracked == set()  # finished: nothing to ask
            text = screen_text(again)
            assert "keep-ok" in text and "keep-bad" in text
            assert title in text and "✘ failed" in text
        assert fresh.sim.requests == []


async def test_unfinished_tasks_resume_polling_after_restart(sim_server, data_dir, clock) -> None:
    sim_server.sim.book.seed("later", queued_for=100)
    app = make_app(sim_server, data_dir, clock, ids=["later"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["later"].status == "queuing")
    clock.advance(500)
    again = make_app(sim_server, data_dir, clock)
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: again.records["later"].finished)


async def test_corrupt_store_is_moved_aside(sim_server, data_dir, clock) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "tasks.toml").write_text("this is [not toml")
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        note = notifications(app)[0]
        assert "corrupt" in note and "moved to" in note
        assert app.records == {}
    aside = [p for p in os.listdir(data_dir) if ".corrupt-" in p]
    assert len(aside) == 1
    assert (data_dir / aside[0]).read_text() == "this is [not toml"


async def test_damaged_database_is_moved_aside(sim_server, data_dir, clock) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / DB_NAME).write_bytes(b"this is not a database" * 50)
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.loaded and notifications(app) != [])
        note = notifications(app)[0]
        assert "damaged" in note and "moved to" in note
        assert app.records == {}
    aside = [p for p in os.listdir(data_dir) if ".corrupt-" in p]
    assert len(aside) == 1


async def test_help_screen_lists_every_key(sim_server, data_dir, clock) -> None:
    from tui.ui.keys import KEYMAP

    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        text = screen_text(app)
        for key in KEYMAP:
            assert key.description in text
        await pilot.press("escape")
        assert "Keys" not in screen_text(app)


async def test_every_action_is_in_the_command_palette(sim_server, data_dir, clock) -> None:
    from tui.ui.keys import KEYMAP

    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE):
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {k.description for k in KEYMAP} <= titles


async def test_quit_key_exits(sim_server, data_dir, clock) -> None:
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
    assert app.return_code == 0


async def test_detail_follows_the_cursor_between_tasks_not_polled_yet(
    sim_server, data_dir, clock
) -> None:
    """Two tasks with nothing known yet look alike but for their IDs; the pane
    once kept showing the first (found by the benchmark's real-terminal phase)."""
    for task_id in ("first-task", "second-task"):
        sim_server.sim.inject(task_id, Fault.hang(30))
    # A long timeout: no poll ends (with an error to show) while the test runs.
    ids = ["first-task", "second-task"]
    app = make_app(sim_server, data_dir, clock, ids=ids, timeout=60)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "Polled     not yet" in region_text(app, app.main.detail))
        assert "first-task" in region_text(app, app.main.detail)
        await pilot.press("j")
        await wait_for(pilot, lambda: "second-task" in region_text(app, app.main.detail))
        assert "first-task" not in region_text(app, app.main.detail)


async def test_narrow_terminal_puts_details_below(sim_server, data_dir, clock) -> None:
    sim_server.sim.book.seed("64f3a1b2c8d9e0f1a2b3c4d5", outcome="completed", age=60)
    app = make_app(sim_server, data_dir, clock, ids=["64f3a1b2c8d9e0f1a2b3c4d5"])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.records["64f3a1b2c8d9e0f1a2b3c4d5"].finished)
        assert app.main.detail.region.y > app.main.table.region.y
        assert app.main.detail.region.width == app.main.table.region.width
        # The long ID is shortened in the middle to fit; the detail pane has it whole.
        await wait_for(pilot, lambda: re.search(r"64f3a1\w*…\w*c4d5  ✔", screen_text(app)))
        assert "64f3a1b2c8d9e0f1a2b3c4d5" in screen_text(app)
        assert "Expires" in screen_text(app)


async def test_not_found_stops_polling(sim_server, data_dir, clock) -> None:
    sim_server.sim.inject("ghost", Fault.not_found())
    app = make_app(sim_server, data_dir, clock, ids=["ghost"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "⊘ not found" in screen_text(app))
        assert "ghost" not in app.poller.tracked
        assert len(sim_server.sim.task_requests("ghost")) == 1


async def test_enter_focuses_details_and_escape_returns(sim_server, data_dir, clock) -> None:
    sim_server.sim.book.seed("two", outcome="completed", expiries=("week", "week"), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["two"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["two"].finished)
        await pilot.press("enter")
        assert app.main.detail.has_focus
        await pilot.press("down")
        assert app.main.detail.selected == 1
        await pilot.press("y")
        assert app.clipboard == app.records["two"].task.results[1].audio_url
        await pilot.press("escape")
        assert app.main.table.has_focus


async def test_same_state_polls_repaint_nothing(sim_server, data_dir, clock) -> None:
    sim_server.sim.book.seed("idle", queued_for=1000)
    app = make_app(sim_server, data_dir, clock, ids=["idle"], tick=3600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["idle"].status == "queuing")
        await wait_for(pilot, lambda: "◷ queuing" in app.main.table.cells("idle")["status"].plain)
        # The first change (pending -> queuing) has reached its row: from here on
        # nothing changes. (Reading cells() above builds them, so it proves nothing.)
        table = app.main.table
        await wait_for(pilot, lambda: table._versions.get("idle", 0) >= 1 and not table._pending)
        calls: list[tuple] = []
        original = app.main.table.upsert

        def counting(*args, **kwargs):
            calls.append(args)
            return original(*args, **kwargs)

        app.main.table.upsert = counting  # type: ignore[method-assign]
        app.save_now()  # the add itself was a change; from here on nothing changes
        polls = len(sim_server.sim.task_requests("idle"))
        await wait_for(pilot, lambda: len(sim_server.sim.task_requests("idle")) >= polls + 5)
        assert calls == []
        assert not app.tracker.dirty


async def test_bell_rings_on_completion_when_enabled(sim_server, data_dir, clock) -> None:
    sim_server.sim.book.seed("ring", queued_for=1, processing_for=1, outcome="completed")
    app = make_app(sim_server, data_dir, clock, ids=["ring"], bell=True)
    rings: list[int] = []
    app.bell = lambda: rings.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["ring"].status == "queuing")
        clock.advance(5)
        await wait_for(pilot, lambda: app.records["ring"].finished)
        await wait_for(pilot, lambda: rings != [])  # rung when the screen hears of it
        await pilot.pause()
        assert rings == [1]


async def test_status_bar_shows_trouble_and_recovery(sim_server, data_dir, clock) -> None:
    sim_server.sim.book.seed("s1", queued_for=1000)
    sim_server.sim.book.seed("s2", queued_for=1000)
    sim_server.sim.inject(None, Fault.html_error(503))
    app = make_app(sim_server, data_dir, clock, ids=["s1", "s2"], interval=0.02)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "retrying" in screen_text(app).splitlines()[0])
        await wait_for(pilot, lambda: "HTML" in screen_text(app))  # the detail pane's problem
        sim_server.sim.clear_faults()
        await wait_for(pilot, lambda: "● ok" in screen_text(app).splitlines()[0], timeout=10)
        await wait_for(
            pilot, lambda: all(app.records[t].last_error is None for t in ("s1", "s2")), timeout=10
        )


async def test_palette_commands_act_on_the_dashboard_from_a_dialog(
    sim_server, data_dir, clock
) -> None:
    for i in range(2):
        sim_server.sim.book.seed(f"p{i}", outcome="completed", age=60)
    app = make_app(sim_server, data_dir, clock, ids=["p0", "p1"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.main.table.row_count == 2)
        await pilot.press("question_mark")  # the help screen is on top
        await wait_for(pilot, lambda: "Keys" in screen_text(app))
        await pilot.press("ctrl+p")
        await pilot.press(*"Remove task")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "p0" not in app.records)
        assert list(app.records) == ["p1"]


async def test_finishes_close_together_are_one_notification_and_one_bell(
    sim_server, data_dir, clock
) -> None:
    book = sim_server.sim.book
    for i in range(5):
        book.seed(f"burst{i}", queued_for=1, processing_for=1, outcome="completed")
    book.seed("burst-bad", queued_for=1, processing_for=1, outcome="failed")
    ids = [f"burst{i}" for i in range(5)] + ["burst-bad"]
    app = make_app(sim_server, data_dir, clock, ids=ids, bell=True)
    rings: list[int] = []
    app.bell = lambda: rings.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(app.records[i].status == "queuing" for i in ids))
        clock.advance(5)
        await wait_for(pilot, lambda: all(app.records[i].finished for i in ids))
        await wait_for(pilot, lambda: any("Tasks finished" in t for t in titles(app)))
        assert app.main.announcer.pending == [] and app.main.announcer.timer is None  # none pending
        finished = [n for n in app._notifications if n.title == "Tasks finished"]
        assert len(finished) == 1 and rings == [1]
        message = finished[0].message
        assert message.startswith("✔ 5 completed, ✘ 1 failed: burst-bad failed")
        named = message.split(": ", 1)[1].split("; and ")[0].split("; ")
        assert len(named) == len(set(named)) == 3  # three names, none twice
        assert re.search(r"; and [1-3] more$", message)  # the rest (a repeated title included)


def titles(app) -> list[str]:
    return [n.title for n in app._notifications]


FAMILY = "👩\u200d👩\u200d👧"  # one emoji of three, joined by zero width joiners


async def test_table_columns_line_up_for_wide_titles_and_hour_long_clips(
    sim_server, data_dir, clock
) -> None:
    """A CJK title is cut by terminal cells with an ellipsis, an emoji sequence
    takes the cells the table measures for it, and a 4,000 s clip shows whole
    (it showed ``1:06:4``): in the rendered lines, every row's Expires value
    starts in the header's column."""
    titles = {"plain": "Plain title", "family": f"{FAMILY} Family", "cjk": "日本語のタイトル" * 6}
    expire_at = int((clock.now + 30 * 3600) * 1000)
    for task_id, title in titles.items():
        sim_server.sim.book.override(
            task_id,
            {
                "id": task_id,
                "status": "completed",
                "created_at": int((clock.now - 100) * 1000),
                "results": [
                    {"id": f"c-{task_id}", "title": title, "duration": 4000, "expire_at": expire_at}
                ],
            },
        )
    app = make_app(sim_server, data_dir, clock, ids=list(titles))
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.table

        def line(y: int) -> str:
            return table.render_line(y).text

        await wait_for(pilot, lambda: all("1:06:40" in line(y) for y in (1, 2, 3)))
        header = line(0)
        column = cell_len(header[: header.index("Expires")])
        rows = {task_id: line(1 + table.get_row_index(task_id)) for task_id in titles}
        for text in rows.values():
            assert cell_len(text[: text.index("1d 6h")]) == column, text
        assert f"{FAMILY} Family" in rows["family"]
        assert "タイトル…" in rows["cjk"]  # cut at a character, then the ellipsis
        assert "1:06:40" in screen_text(app)


LONG_URL = (
    "https://cdn.musicmint.example/files/2026/09/21/0123456789abcdef0123456789abcdef/"
    "night-drive-remix.mp3?X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789"
)


async def test_detail_pane_shows_a_long_url_on_one_line_and_copies_it_whole(
    sim_server, data_dir, clock
) -> None:
    cover = LONG_URL.replace("night-drive-remix.mp3", "night-drive-cover.jpg")
    clip = {"id": "c1", "title": "Night Drive", "audio_url": LONG_URL, "image_url": cover}
    sim_server.sim.book.override(
        "url", {"id": "url", "status": "completed", "results": [{**clip, "expire_at": 0}]}
    )
    app = make_app(sim_server, data_dir, clock, ids=["url"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "Audio" in region_text(app, app.main.detail))
        lines = region_text(app, app.main.detail).splitlines()
        audio = next(i for i, text in enumerate(lines) if "Audio" in text)
        assert "https://cdn." in lines[audio] and "-remix.mp3?…" in lines[audio]
        assert "Cover" in lines[audio + 1]  # one line each: nothing wrapped
        assert "https://cdn." in lines[audio + 1] and "-cover.jpg?…" in lines[audio + 1]
        await pilot.press("y")
        assert app.clipboard == LONG_URL


async def test_retry_countdown_in_the_detail_pane_ticks(
    sim_server, data_dir, clock: FakeClock
) -> None:
    """ "retrying in 23s" counts down with the clock, between two polls."""
    sim_server.sim.inject("busy", Fault.envelope_error(5000, "busy"))
    # A long interval: the retry is 20-40 s away in real time, so none comes
    # during the test; only the (fake) wall clock moves.
    app = make_app(sim_server, data_dir, clock, ids=["busy"], interval=20)
    async with app.run_test(size=SIZE) as pilot:

        def countdown() -> int | None:
            found = re.search(r"retrying in (\d+)s", region_text(app, app.main.detail))
            return int(found.group(1)) if found else None

        await wait_for(pilot, lambda: countdown() is not None)
        first = countdown()
        assert first is not None
        clock.advance(3)
        await wait_for(pilot, lambda: countdown() == first - 3)
        clock.advance(2)
        await wait_for(pilot, lambda: countdown() == first - 5)


async def test_a_submitted_task_says_so_and_what_it_is_until_the_server_answers(
    sim_server, data_dir, clock
) -> None:
    from tui.api.generate import GenerateRequest
    from tui.domain.export import to_json

    lyrics = "[Verse]\nneon [b] rain\n" + "".join(f"line {n}\n" for n in range(20))
    request = GenerateRequest(prompt=lyrics, tags="synthwave", retention_days=3)
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        task_id = (await app.client.generate(request)).task_id
        # The first poll is held back a second: long enough to see the row before it.
        sim_server.sim.inject(task_id, Fault.hang(1.0, times=1))
        record = app.track_submitted(task_id, request.to_json())
        assert record.request == request.to_json() and record.submitted_at == clock()
        await wait_for(pilot, lambda: "↑ submitted" in screen_text(app))
        row = app.main.table.cells(task_id)
        assert row["title"].plain == "neon [b] rain"  # the label, as typed
        await wait_for(pilot, lambda: "Request" in region_text(app, app.main.detail))
        detail = region_text(app, app.main.detail)
        assert "Status     ↑ submitted" in detail
        assert "Request    Custom" in detail and "Tags       synthwave" in detail
        assert "neon [b] rain" in detail and "(10 more lines)" in detail
        assert "Keep files 3 days" in detail
        assert "Submitted  " in detail and "(0s ago)" in detail
        await wait_for(pilot, lambda: app.main.table.cells(task_id)["status"].plain == "◷ queuing")
        assert app.records[task_id].status == "queuing"
        assert "↑ submitted" not in screen_text(app)
        assert "Request    Custom" in region_text(app, app.main.detail)  # still said
        (exported,) = json.loads(to_json(list(app.records.values())))
        assert exported["request"] == request.to_json()
        assert exported["submitted_at"] == record.submitted_at
    app.store.wait_saved()
    (stored,) = TaskStore(data_dir / DB_NAME).load(read_only=True).tasks
    assert stored.request == request.to_json() and stored.submitted_at == record.submitted_at
