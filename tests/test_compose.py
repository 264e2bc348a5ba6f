"""The New track dialog against the simulator: what a user types, what the
server receives (its request log), and what the table then shows."""

from __future__ import annotations

import json

import httpx
from textual.widgets import Button, Input, Static, TextArea

from tui.services.drafts import DRAFT_FILE
from tui.ui.screens.compose import ComposeScreen

from .conftest import KEY
from .harness import SIZE, loaded, make_app, notifications, wait_for

HEADERS = {"Authorization": f"Bearer {KEY}"}


def sent_bodies(sim) -> list[dict]:
    """The JSON of every generate request the server received."""
    return [json.loads(record.body) for record in sim.generated]


def dialog(app) -> ComposeScreen:
    screen = app.screen
    assert isinstance(screen, ComposeScreen)
    return screen


def shown(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press({"\n": "enter", " ": "space"}.get(ch, ch))


async def open_dialog(pilot, key: str = "n") -> ComposeScreen:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ComposeScreen))
    return dialog(pilot.app)


def inject(sim_server, spec: dict) -> None:
    answer = httpx.post(sim_server.url + "/_sim/faults", json=spec, headers=HEADERS)
    assert answer.json()["code"] == 0


async def test_custom_track_keeps_section_lines_and_is_tracked_at_once(
    sim_server, data_dir, clock
) -> None:
    sim = sim_server.sim
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await open_dialog(pilot)
        await type_text(pilot, "[Verse]\nneon rain\n\n[Chorus]\nla la")
        await pilot.press("tab")
        await type_text(pilot, "synthwave")
        await pilot.press("tab")
        await type_text(pilot, "Night Drive")
        assert "Ready" in shown(app, "#compose-problems")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any("Submitted" in n for n in notifications(app)))
        assert sent_bodies(sim) == [
            {
                "prompt": "[Verse]\nneon rain\n\n[Chorus]\nla la",
                "tags": "synthwave",
                "title": "Night Drive",
            }
        ]
        task_id = sim.generated[0].task_id
        assert app.main.table.highlighted_id == task_id
        assert notifications(app)[-1].startswith(f"Submitted: task {task_id}")
        await wait_for(pilot, lambda: app.records[task_id].status == "queuing")
        assert app.records[task_id].request["title"] == "Night Drive"


async def test_inspiration_and_instrumental_send_only_their_fields(
    sim_server, data_dir, clock
) -> None:
    sim = sim_server.sim
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_dialog(pilot)
        await type_text(pilot, "typed in custom")  # kept, not sent
        await pilot.press("ctrl+t")
        await type_text(pilot, "a calm sea shanty")
        screen.query_one("#instrumental").focus()
        await pilot.press("space")
        screen.query_one("#retention_days", Input).focus()
        await type_text(pilot, "14")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(sim.generated) == 1)
        assert sent_bodies(sim) == [
            {
                "gpt_description_prompt": "a calm sea shanty",
                "make_instrumental": True,
                "retention_days": 14,
            }
        ]


async def test_every_rule_is_named_before_any_request(sim_server, data_dir, clock) -> None:
    sim = sim_server.sim
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_dialog(pilot)
        assert "Write lyrics or style tags" in shown(app, "#compose-problems")
        await pilot.press("ctrl+s")
        assert "Not sent: fix what is marked first." in shown(app, "#compose-status")
        assert screen.query_one("#lyrics").has_class("-invalid")
        screen.query_one("#tags", Input).value = "t" * 201
        screen.query_one("#retention_days", Input).value = "31"
        screen.query_one("#persona_id", Input).value = "../etc"
        await pilot.press("ctrl+s")
        problems = shown(app, "#compose-problems")
        assert "Style tags: 201 characters, at most 200" in problems
        assert "Keep files: 31, must be 1 to 30" in problems
        assert "Persona ID:" in problems
        assert screen.query_one("#persona_id").has_focus is False  # the first bad field
        assert screen.query_one("#tags").has_focus
        screen.query_one("#retention_days", Input).value = "3x"
        await pilot.pause()
        assert "Keep files: '3x' is not a whole number of days" in shown(app, "#compose-problems")
        assert sim.generated == []  # nothing ever reached the server


async def test_a_double_press_and_a_click_send_one_request(sim_server, data_dir, clock) -> None:
    sim = sim_server.sim
    inject(sim_server, {"kind": "generate_timeout", "seconds": 0.6, "times": 1})
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_dialog(pilot)
        screen.query_one("#tags", Input).value = "pop"
        await pilot.press("ctrl+s", "ctrl+s")
        assert screen.query_one("#send", Button).disabled
        screen.query_one("#send", Button).press()
        await pilot.press("escape")  # waits: closing would lose the task
        assert isinstance(app.screen, ComposeScreen)
        assert "Waiting for the server's answer" in shown(app, "#compose-status")
        await pilot.press("ctrl+q")  # quitting warns first, for the same reason
        assert "could lose its task ID" in notifications(app)[-1]
        assert app.is_running
        await wait_for(pilot, lambda: any("Submitted" in n for n in notifications(app)))
        assert len(sim.generated) == 1
        assert list(app.records) == [sim.generated[0].task_id]


async def test_no_answer_says_it_may_exist_and_the_lookup_tracks_it(
    sim_server, data_dir, clock
) -> None:
    sim = sim_server.sim
    inject(sim_server, {"kind": "generate_timeout", "seconds": 1, "times": 1})
    app = make_app(sim_server, data_dir, clock, timeout=0.3)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_dialog(pilot)
        screen.query_one("#tags", Input).value = "pop"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "may have created" in shown(app, "#compose-status"))
        assert "ctrl+l looks for it" in shown(app, "#compose-status")
        await pilot.press("ctrl+s")  # not sent again without a second press
        assert "ctrl+s again sends anyway" in shown(app, "#compose-status")
        assert len(sim.generated) == 1
        await pilot.press("ctrl+l")
        made = sim.generated[0].task_id
        await wait_for(pilot, lambda: f"Found task {made}" in shown(app, "#compose-status"))
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: made in app.records)
        assert app.records[made].request == {"tags": "pop"}
        assert app.records[made].submitted_at == clock()  # when it was sent, not tracked
        await wait_for(pilot, lambda: "found among the account's" in notifications(app)[-1])
        assert app.main.table.highlighted_id == made
        assert len(sim.generated) == 1


async def test_a_reset_before_accepting_finds_nothing_and_sends_again_on_request(
    sim_server, data_dir, clock
) -> None:
    sim = sim_server.sim
    inject(sim_server, {"kind": "generate_reset", "times": 1})
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_dialog(pilot)
        screen.query_one("#tags", Input).value = "pop"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "may have created" in shown(app, "#compose-status"))
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: "No untracked task" in shown(app, "#compose-status"))
        await pilot.press("ctrl+s", "ctrl+s")
        await wait_for(pilot, lambda: any("Submitted" in n for n in notifications(app)))
        assert [r.task_id is not None for r in sim.generated] == [False, True]


async def test_the_draft_survives_escape_and_a_killed_process(sim_server, data_dir, clock) -> None:
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await open_dialog(pilot)
        await type_text(pilot, "[Verse]\nfirst")
        await pilot.press("escape")
        assert not isinstance(app.screen, ComposeScreen)
        screen = await open_dialog(pilot)
        assert screen.query_one("#lyrics", TextArea).text == "[Verse]\nfirst"
        await type_text(pilot, " line")
        # On disk while the dialog is still open: what a killed process leaves.
        draft = data_dir / DRAFT_FILE
        await wait_for(pilot, lambda: "first line" in draft.read_text())
    second = make_app(sim_server, data_dir, clock)
    async with second.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_dialog(pilot)
        assert screen.query_one("#lyrics", TextArea).text == "[Verse]\nfirst line"


async def test_history_recalls_a_sent_request_and_keeps_the_draft_it_replaces(
    sim_server, data_dir, clock
) -> None:
    sim = sim_server.sim
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_dialog(pilot)
        screen.query_one("#tags", Input).value = "first request"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any("Submitted" in n for n in notifications(app)))
        screen = await open_dialog(pilot)
        assert screen.query_one("#tags", Input).value == ""  # sent: the draft is gone
        screen.query_one("#tags", Input).value = "half written"
        await pilot.press("ctrl+r")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ComposeScreen))
        assert screen.query_one("#tags", Input).value == "first request"
        await pilot.press("ctrl+r")  # the replaced text is first in the list
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.query_one("#tags", Input).value == "half written")
        assert len(sim.generated) == 1


async def test_extend_starts_at_the_clip_end_and_keeps_within_it(
    sim_server, data_dir, clock
) -> None:
    sim = sim_server.sim
    sim.book.seed("done1", outcome="completed", age=600)
    app = make_app(sim_server, data_dir, clock, ids=["done1"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["done1"].status == "completed")
        clip = app.records["done1"].task.results[0]
        end = int(clip.duration)
        screen = await open_dialog(pilot, "e")
        assert screen.query_one("#continue_at", Input).value == str(end)
        assert clip.id in shown(app, "#compose-extend-clip")
        screen.query_one("#continue_at", Input).value = str(end + 1)
        await pilot.press("ctrl+s")
        assert f"Extend from: {end + 1} s is past the clip's end (0 to" in shown(
            app, "#compose-problems"
        )
        assert sim.generated == []
        screen.query_one("#continue_at", Input).value = "30"
        screen.query_one("#lyrics", TextArea).load_text("[Bridge]\nand then")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(sim.generated) == 1)
        body = sent_bodies(sim)[0]
        assert body["continue_clip_id"] == clip.id and body["continue_at"] == 30
        assert body["prompt"] == "[Bridge]\nand then"


async def test_variation_prefills_the_stored_request_and_sends_it_as_a_new_task(
    sim_server, data_dir, clock
) -> None:
    sim = sim_server.sim
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_dialog(pilot)
        screen.query_one("#tags", Input).value = "lofi"
        screen.query_one("#title", Input).value = "Rain"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any("Submitted" in n for n in notifications(app)))
        screen = await open_dialog(pilot, "N")
        assert screen.query_one("#title", Input).value == "Rain"
        assert "A variation of task" in shown(app, "#compose-note")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(app.records) == 2)
        first, second = sent_bodies(sim)
        assert first == second == {"tags": "lofi", "title": "Rain"}
        assert sim.generated[0].task_id != sim.generated[1].task_id


async def test_retry_of_a_failed_task_asks_then_resends_its_request(
    sim_server, data_dir, clock
) -> None:
    sim = sim_server.sim
    sim.book.seed("other1", outcome="failed", age=600)
    app = make_app(sim_server, data_dir, clock, ids=["other1"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["other1"].status == "failed")
        await pilot.press("R")  # not made here: nothing to resend, said plainly
        await wait_for(pilot, lambda: any("was not made here" in n for n in notifications(app)))
        screen = await open_dialog(pilot)
        screen.query_one("#lyrics", TextArea).load_text("FAILME please")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(app.records) == 2)
        made = sim.generated[0].task_id
        clock.advance(3600)
        await pilot.press("r")
        await wait_for(pilot, lambda: app.records[made].status == "failed")
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ComposeScreen))
        await wait_for(pilot, lambda: f"Retry of failed task {made}" in shown(app, "#compose-note"))
        assert len(sim.generated) == 1  # nothing sent by R itself
        await wait_for(pilot, lambda: app.screen.query_one("#send").has_focus)
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(sim.generated) == 2)
        assert sent_bodies(sim)[1] == {"prompt": "FAILME please"}


async def test_an_inspiration_request_reopens_in_inspiration_mode(
    sim_server, data_dir, clock
) -> None:
    sim = sim_server.sim
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await open_dialog(pilot)
        await pilot.press("ctrl+t")
        await type_text(pilot, "rain")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any("Submitted" in n for n in notifications(app)))
        for _ in range(3):  # the tabs' late activation once flipped it to Custom
            screen = await open_dialog(pilot, "N")
            await pilot.pause()
            assert screen.query_one("#compose-modes").current == "pane-inspiration"
            await type_text(pilot, "!")
            assert screen.query_one("#description", TextArea).text == "rain!"
            await pilot.press("escape")
        await pilot.press("ctrl+s")  # main screen: nothing
        assert len(sim.generated) == 1


async def test_the_risk_of_a_send_without_answer_outlives_the_dialog(
    sim_server, data_dir, clock
) -> None:
    sim = sim_server.sim
    inject(sim_server, {"kind": "generate_server_error", "status": 502, "times": 1})
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_dialog(pilot)
        screen.query_one("#tags", Input).value = "pop"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "may have created" in shown(app, "#compose-status"))
        await pilot.press("escape")
        screen = await open_dialog(pilot)
        assert "got no usable answer" in shown(app, "#compose-status")
        assert screen.query_one("#look").display
        await pilot.press("ctrl+s")  # one press only warns
        assert "ctrl+s again sends anyway" in shown(app, "#compose-status")
        assert len(sim.generated) == 1


async def test_the_lookup_ignores_a_task_made_before_the_send(sim_server, data_dir, clock) -> None:
    """Another client's task from 20 s earlier is not "found" as ours."""
    sim = sim_server.sim
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        httpx.post(
            sim_server.url + "/api/v1/music/generate", json={"tags": "other"}, headers=HEADERS
        )
        clock.advance(20)
        inject(sim_server, {"kind": "generate_reset", "times": 1})
        screen = await open_dialog(pilot)
        screen.query_one("#tags", Input).value = "mine"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "may have created" in shown(app, "#compose-status"))
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: "No untracked task" in shown(app, "#compose-status"))
        assert len(sim.generated) == 2 and not app.records


async def test_an_extension_can_be_made_a_new_track_and_expired_clips_are_not_offered(
    sim_server, data_dir, clock
) -> None:
    sim = sim_server.sim
    from tui.simulator.lifecycle import EXPIRE_PAST, EXPIRE_WEEK

    sim.book.seed("done1", outcome="completed", age=600, expiries=(EXPIRE_WEEK,))
    sim.book.seed("old1", outcome="completed", age=600, expiries=(EXPIRE_PAST,))
    app = make_app(sim_server, data_dir, clock, ids=["done1", "old1"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["old1"].status == "completed")
        await pilot.press("j", "e")  # old1: its files have expired
        await wait_for(pilot, lambda: "cannot be extended" in notifications(app)[-1])
        assert not isinstance(app.screen, ComposeScreen)
        await pilot.press("k")
        screen = await open_dialog(pilot, "e")
        assert screen.query_one("#compose-dialog").border_title == "Extend"
        screen.query_one("#drop-extend", Button).press()
        await pilot.pause()
        assert screen.query_one("#compose-dialog").border_title == "New track"
        assert not screen.query_one("#compose-extend").display
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(sim.generated) == 1)
        assert "continue_clip_id" not in sent_bodies(sim)[0]


async def test_a_prefill_is_checked_once_and_not_written_as_a_draft(
    sim_server, data_dir, clock
) -> None:
    """Filling the dialog (a variation here) sets many fields; their Changed
    messages arrive after the fill and must not each count as an edit."""
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_dialog(pilot)
        screen.query_one("#tags", Input).value = "lofi"
        screen.query_one("#title", Input).value = "Rain"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any("Submitted" in n for n in notifications(app)))
        screen = await open_dialog(pilot, "N")
        checks: list[bool] = []
        original = screen._changed
        screen._changed = lambda **kw: checks.append(True) or original(**kw)
        await pilot.pause()
        assert screen.query_one("#title", Input).value == "Rain"
        assert checks == [] and screen._draft_timer is None
        await pilot.press("x")  # an edit is one
        await wait_for(pilot, lambda: checks == [True])
        assert screen._draft_timer is not None


async def test_a_prefill_over_another_draft_keeps_the_send_that_may_have_made_a_task(
    sim_server, data_dir, clock
) -> None:
    """The draft is set aside for the prefill (extend, here); the warning
    about the earlier send with no answer stays with it."""
    from tui.simulator.lifecycle import EXPIRE_WEEK

    sim_server.sim.book.seed("done1", outcome="completed", age=600, expiries=(EXPIRE_WEEK,))
    inject(sim_server, {"kind": "generate_reset", "times": 1})
    app = make_app(sim_server, data_dir, clock, ids=["done1"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["done1"].status == "completed")
        screen = await open_dialog(pilot)
        screen.query_one("#tags", Input).value = "mine"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "may have created" in shown(app, "#compose-status"))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        await open_dialog(pilot, "e")  # a prefill: the draft ("mine") goes aside
        await wait_for(pilot, lambda: "An earlier send at" in shown(app, "#compose-status"))
        assert "ctrl+l looks for it" in shown(app, "#compose-status")
