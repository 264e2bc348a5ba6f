"""Importing the account's recent tasks, and exporting the tracked list."""

from __future__ import annotations

import csv
import io
import json

from tui.api.models import Clip
from tui.cli.main import main
from tui.domain.tracked import TrackedTask
from tui.services.store import DB_NAME, TaskStore

from .harness import SIZE, loaded, make_app, notifications, wait_for


async def test_import_adds_exactly_the_missing_tasks(sim_server, data_dir, clock):
    book = sim_server.sim.book
    for i in range(230):
        book.seed(f"acct{i:03d}", outcome="completed", age=1000 + i)
    # Tracked already: two account tasks and one the simulator learns of by polling.
    app = make_app(sim_server, data_dir, clock, ids=["acct005", "acct100", "mine"])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        # "mine" joins the account list only once it has been polled.
        await wait_for(pilot, lambda: app.records["mine"].last_poll is not None)
        await pilot.press("I")
        said = "Imported 228 new tasks (3 pages read); 3 already tracked."
        await wait_for(pilot, lambda: said in notifications(app))
        assert len(app.records) == 231
        app.clear_notifications()
        await pilot.press("I")  # again: there is nothing left to add, and it says so
        await wait_for(pilot, lambda: any("Nothing new" in n for n in notifications(app)))
        assert (
            notifications(app)[-1] == "Nothing new to import (3 pages read); 231 already tracked."
        )
    pages = [r for r in sim_server.sim.requests if r.path == "/api/v1/tasks"]
    assert [json.loads(r.body)["page"] for r in pages] == [1, 2, 3, 1, 2, 3]
    assert all(json.loads(r.body)["page_size"] == 100 for r in pages)


#: A generate request whose lyrics would be a formula, with a newline and non-ASCII.
REQUEST = {"prompt": "=cmd|' /C calc'!A0\nzweite Zeile ü", "tags": "pop"}


def _seed_store() -> None:
    from tui.api.models import Task
    from tui.core import locations

    clip1 = Clip(
        "c1",
        "https://x/1.mp3",
        "https://x/1.jpg",
        "=HYPERLINK(evil)",
        61.0,
        "pop",
        'say "hi", then\nleave',
        0,
    )
    clip2 = Clip("c2", "https://x/2.mp3", None, "Second", 62.0, None, None, 1_800_000_000_000)
    TaskStore(locations.data_dir() / DB_NAME).save(
        [
            TrackedTask(
                "t1",
                1.0,
                Task("t1", "completed", 1_700_000_000_000, (clip1, clip2)),
                downloads={"c1": "/music/a.mp3"},
            ),
            TrackedTask("t2", 2.0, Task("t2", "failed", None, (), "boom")),
            TrackedTask("t3", 3.0, request=REQUEST, submitted_at=3.5),
        ]
    )


def test_export_json_round_trips(capsys) -> None:
    _seed_store()
    assert main(["export", "--format", "json"]) == 0
    tasks = json.loads(capsys.readouterr().out)
    assert [t["id"] for t in tasks] == ["t1", "t2", "t3"]
    assert [c["id"] for c in tasks[0]["results"]] == ["c1", "c2"]
    assert tasks[0]["results"][0]["saved_path"] == "/music/a.mp3"
    assert tasks[1]["error"] == "boom" and tasks[2]["status"] == "queuing"  # as submitted
    assert tasks[0]["request"] is None and tasks[0]["submitted_at"] is None
    assert tasks[2]["request"] == REQUEST and tasks[2]["submitted_at"] == 3.5
    # JSON keeps the API's integers, exact to the millisecond; 0 still means never.
    assert tasks[0]["created_at"] == 1_700_000_000_000
    assert [c["expire_at"] for c in tasks[0]["results"]] == [0, 1_800_000_000_000]


def test_export_csv_has_header_and_a_row_per_clip(capsys) -> None:
    _seed_store()
    assert main(["export", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:4] == ["task_id", "task_status", "task_created_at", "clip_id"]
    # One row per clip, and one for each task without clips (failed, submitted).
    assert [(r[0], r[3]) for r in rows[1:]] == [("t1", "c1"), ("t1", "c2"), ("t2", ""), ("t3", "")]
    assert rows[1][4] == "'=HYPERLINK(evil)"  # not a formula in a spreadsheet
    assert rows[1][7] == 'say "hi", then\nleave'
    header = rows[0]
    created, expires = header.index("task_created_at"), header.index("expire_at")
    # ISO 8601 UTC, not epoch milliseconds; expire_at 0 is "never".
    assert [r[created] for r in rows[1:3]] == ["2023-11-14T22:13:20Z"] * 2
    assert [r[expires] for r in rows[1:3]] == ["never", "2027-01-15T08:00:00Z"]
    assert header[-1] == "request" and [r[-1] for r in rows[1:3]] == ["", ""]
    assert rows[2 + 1][1] == "failed" and json.loads(rows[4][-1]) == REQUEST


def test_export_csv_has_the_request_as_json_never_a_formula() -> None:
    from tui.api.models import Task
    from tui.domain.export import to_csv

    clip = Clip("c1", None, None, "t", None, None, None, None)
    record = TrackedTask("g1", 1.0, Task("g1", "completed", None, (clip,)), request=REQUEST)
    (row,) = csv.DictReader(io.StringIO(to_csv([record])))
    assert row["request"].startswith("{") and json.loads(row["request"]) == REQUEST
    assert "\n" not in row["request"] and row["request"].isascii()  # one line, escaped


def test_export_csv_leaves_absurd_times_empty() -> None:
    from tui.api.models import Task
    from tui.domain.export import to_csv

    times = [None, -1, 5, 10**30, 253_402_300_800_000, 1.7e12, True]
    clips = tuple(
        Clip(f"c{i}", None, None, "t", None, None, None, value)  # type: ignore[arg-type]
        for i, value in enumerate(times)
    )
    record = TrackedTask("t1", 1.0, Task("t1", "completed", 10**30, clips))
    rows = list(csv.DictReader(io.StringIO(to_csv([record]))))
    assert [(r["task_created_at"], r["expire_at"]) for r in rows] == [("", "")] * len(times)


def test_export_leaves_a_corrupt_file_alone(capsys) -> None:
    from tui.core import locations

    path = locations.data_dir() / "tasks.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not [toml")
    assert main(["export"]) == 2
    assert path.read_text() == "not [toml"
    assert sorted(p.name for p in path.parent.iterdir()) == ["tasks.toml"]
    assert "corrupt" in capsys.readouterr().err


async def test_import_flag_with_a_status_filter(sim_server, data_dir, clock):
    book = sim_server.sim.book
    book.seed("ok1", outcome="completed", age=1000)
    book.seed("ok2", outcome="completed", age=1001)
    book.seed("bad1", outcome="failed", age=1002)
    app = make_app(sim_server, data_dir, clock)
    app._import_status = "completed"  # as `--import-recent completed` sets it
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: set(app.records) == {"ok1", "ok2"})
    body = next(r.body for r in sim_server.sim.requests if r.path == "/api/v1/tasks")
    assert json.loads(body)["status"] == 2


def test_import_recent_flag_parses() -> None:
    from tui.cli.main import dashboard_parser

    assert dashboard_parser().parse_args(["--import-recent"]).import_recent == "all"
    args = dashboard_parser().parse_args(["--import-recent", "failed", "t1"])
    assert args.import_recent == "failed" and args.task_ids == ["t1"]


async def test_export_works_while_the_dashboard_runs_and_writes(sim_server, clock):
    """The dashboard keeps the database open and writes as tasks change; an
    export in another process reads it at the same time."""
    import asyncio
    import sys

    from tui.core import locations

    sim_server.sim.book.seed("live-1", outcome="completed", age=60)
    sim_server.sim.book.seed("live-2", queued_for=1000)
    app = make_app(sim_server, locations.data_dir(), clock, ids=["live-1", "live-2"])

    async def exported() -> list[str]:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui", "export", stdout=asyncio.subprocess.PIPE
        )
        out, _ = await child.communicate()
        assert child.returncode == 0
        return [task["id"] for task in json.loads(out)]

    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["live-1"].finished)
        ids: list[str] = []
        for _ in range(40):  # until the dashboard's save has landed
            ids = await exported()
            if ids == ["live-1", "live-2"]:
                break
        assert ids == ["live-1", "live-2"]
        assert app.is_running  # and the dashboard went on
