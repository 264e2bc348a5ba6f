"""The tracker's rules, without Pilot or HTTP: events in, changes out."""

from __future__ import annotations

import pytest

from tui.api import NotFoundError, ResultExpiredError, ServerError
from tui.api.models import Clip, Task
from tui.core.sanitize import mask_key
from tui.domain.tracked import TrackedTask
from tui.services.poller import Polled, PollFailed
from tui.services.tracker import Tracker

KEY = "sk-mm-secret-key-1234"


def clip(**fields: object) -> Clip:
    blank = dict.fromkeys(
        ("id", "audio_url", "image_url", "title", "duration", "tags", "prompt", "expire_at")
    )
    return Clip(**{**blank, **fields})  # type: ignore[arg-type]


def task(task_id: str, status: str, clips: int = 0) -> Task:
    results = tuple(clip(id=f"{task_id}-c{i}", title=f"Song {i}") for i in range(clips))
    return Task(id=task_id, status=status, created_at=1, results=results)


def polled(task_id: str, status: str, at: float = 100.0, clips: int = 0) -> Polled:
    return Polled(task_id, task(task_id, status, clips), at, 0.0)


@pytest.fixture
def tracker() -> Tracker:
    t = Tracker(secret=KEY)
    t.add(["a", "b"], now=10.0)
    t.changes()  # start clean
    return t


def test_add_skips_tracked_ids_and_marks_dirty(tracker: Tracker) -> None:
    added = tracker.add(["b", "c", "c"], now=20.0)
    assert [r.id for r in added] == ["c"]
    assert list(tracker.records) == ["a", "b", "c"]
    assert tracker.dirty


def test_records_view_is_read_only(tracker: Tracker) -> None:
    with pytest.raises(TypeError):
        tracker.records["x"] = TrackedTask("x", 0.0)  # type: ignore[index]


def test_same_answer_twice_changes_nothing_the_second_time(tracker: Tracker) -> None:
    first = tracker.polled(polled("a", "queuing"))
    assert first is not None and first.repaint and first.status_changed
    tracker.changes()
    assert tracker.polled(polled("a", "queuing", at=105.0)) is None
    assert not tracker.dirty
    assert tracker.records["a"].last_poll == 105.0  # still noted, for the detail pane


def test_finish_seen_happening_is_announced_once_with_took(tracker: Tracker) -> None:
    tracker.polled(polled("a", "processing", at=100.0))
    change = tracker.polled(polled("a", "completed", at=160.0, clips=2))
    assert change is not None and change.finished and change.status_changed
    record = tracker.records["a"]
    assert record.finished_at == 160.0 and record.first_seen == 100.0
    assert tracker.polled(polled("a", "completed", at=170.0, clips=2)) is None


def test_first_sight_of_a_finished_task_is_not_news(tracker: Tracker) -> None:
    change = tracker.polled(polled("a", "completed", clips=1))
    assert change is not None and not change.finished
    assert tracker.records["a"].finished_at is None


def test_auto_download_asks_for_the_clips_of_a_completed_task() -> None:
    t = Tracker(auto_download=True)
    t.add(["a"], now=0.0)
    change = t.polled(polled("a", "completed", clips=2))
    assert change is not None
    assert change.auto_download == [0, 1]  # clip positions: IDs may be null or repeated


def test_failure_keeps_the_state_and_masks_the_key(tracker: Tracker) -> None:
    tracker.polled(polled("a", "processing"))
    error = ServerError(f"upstream echoed {KEY}", http_status=502)
    change = tracker.poll_failed(PollFailed("a", error, 110.0, retry_in=12.0))
    assert change is not None and change.repaint
    record = tracker.records["a"]
    assert record.status == "processing"
    assert KEY not in (record.last_error or "")
    assert record.last_error == f"upstream echoed {mask_key(KEY)} (HTTP 502)"
    assert record.retry_at == 122.0  # the screen counts down to it
    assert tracker.link_restored(115.0) == [record]  # the link is back: due now
    assert record.retry_at == 115.0
    tracker.polled(polled("a", "processing", at=120.0))
    assert record.last_error is None and record.retry_at is None


def test_not_found_and_expired_are_kept_and_saved(tracker: Tracker) -> None:
    change = tracker.poll_failed(PollFailed("a", NotFoundError("no such task"), 1.0, None))
    assert change is not None and change.not_found and change.status_changed
    assert tracker.records["a"].status == "not found" and tracker.records["a"].finished
    assert tracker.dirty
    tracker.changes()
    tracker.poll_failed(PollFailed("b", ResultExpiredError("gone", code=4005), 1.0, None))
    assert tracker.records["b"].expired == "gone" and tracker.dirty


def test_events_for_removed_tasks_are_ignored(tracker: Tracker) -> None:
    tracker.remove(["a"])
    assert tracker.polled(polled("a", "completed")) is None
    assert tracker.poll_failed(PollFailed("a", ServerError("x"), 1.0, 5.0)) is None


def test_remove_and_undo_restore_the_position(tracker: Tracker) -> None:
    tracker.add(["c"], now=11.0)
    tracker.remove(["b"])
    tracker.remove(["a"])
    assert list(tracker.records) == ["c"]
    assert tracker.undo() and list(tracker.records) == ["a", "c"]
    assert tracker.undo() and list(tracker.records) == ["a", "b", "c"]
    assert tracker.undo() == []


def test_a_bulk_remove_is_one_undo(tracker: Tracker) -> None:
    tracker.add(["c", "d", "e"], now=11.0)
    removed = tracker.remove(["e", "a", "d", "not-tracked"])
    assert [r.id for r in removed] == ["a", "d", "e"]
    assert list(tracker.records) == ["b", "c"]
    assert tracker.counts["pending"] == 2
    assert [r.id for r in tracker.undo()] == ["a", "d", "e"]
    assert list(tracker.records) == ["a", "b", "c", "d", "e"]
    assert tracker.counts["pending"] == 5
    assert tracker.undo() == []


def test_loaded_file_comes_first_then_what_was_added_meanwhile() -> None:
    t = Tracker()
    t.add(["typed"], now=5.0)
    loaded = [TrackedTask("old-done", 1.0), TrackedTask("old-open", 2.0)]
    loaded[0].task = task("old-done", "completed")
    merged = t.merge_loaded(loaded, ["typed", "argv", "old-open"], now=6.0)
    assert list(t.records) == ["old-done", "old-open", "typed", "argv"]
    assert merged.resume == ["old-open"]
    assert [r.id for r in merged.added] == ["argv"]
    assert t.dirty


def test_changes_are_copies_of_what_changed(tracker: Tracker) -> None:
    tracker.download_saved("a", "clip-1", "/music/a.mp3")
    changes = tracker.changes()
    copy = list(changes.upserts.values())
    assert set(changes.upserts) == {"a"} and changes.deletes == set()
    assert not tracker.dirty
    tracker.download_saved("a", "clip-2", "/music/b.mp3")
    assert copy[0].downloads == {"clip-1": "/music/a.mp3"}


def test_expiring_unsaved_counts_only_unsaved_clips_inside_the_window() -> None:
    t = Tracker()
    t.add(["a"], now=0.0)
    now = 1_000_000.0
    hour = 3600 * 1000
    clips = (
        clip(id="soon", expire_at=int(now * 1000) + hour),
        clip(id="saved", expire_at=int(now * 1000) + hour),
        clip(id="later", expire_at=int(now * 1000) + 48 * hour),
        clip(id="past", expire_at=int(now * 1000) - hour),
        clip(id="never", expire_at=0),
    )
    t.polled(Polled("a", Task(id="a", status="completed", results=clips), now, 0.0))
    t.download_saved("a", "saved", "/x.mp3")
    assert t.expiring_unsaved(now, warn_hours=24) == 1


def recount(t: Tracker, now: float, warn_hours: float) -> tuple[dict[str, int], int]:
    """The answers computed from scratch, to check the kept-up-to-date ones."""
    counts: dict[str, int] = {}
    for record in t.records.values():
        counts[record.status] = counts.get(record.status, 0) + 1
    horizon = (now + warn_hours * 3600) * 1000
    expiring = sum(
        1
        for r in t.records.values()
        if r.task is not None and r.expired is None
        for c in r.task.results
        if c.id and c.expire_at and now * 1000 < c.expire_at <= horizon and c.id not in r.downloads
    )
    return counts, expiring


def test_counts_kept_up_to_date_match_a_recount_after_any_events() -> None:
    import random

    rng = random.Random(42)
    t = Tracker()
    now = 1_000_000.0
    ids = [f"t{i}" for i in range(30)]
    for step in range(3000):
        task_id = rng.choice(ids)
        action = rng.random()
        if action < 0.1:
            t.add([task_id], now)
        elif action < 0.15:
            t.add_submitted(task_id, {"tags": "pop"}, now)
        elif action < 0.2:
            t.remove([task_id])
        elif action < 0.25:
            t.undo()
        elif action < 0.75:
            clips = tuple(
                clip(id=f"{task_id}-{j}", expire_at=int((now + rng.uniform(-3, 30) * 3600) * 1000))
                for j in range(rng.randint(0, 3))
            )
            status = rng.choice(["queuing", "processing", "completed", "failed", None])
            t.polled(Polled(task_id, Task(id=task_id, status=status, results=clips), now, 0.0))
        elif action < 0.85:
            error = rng.choice([NotFoundError("gone"), ResultExpiredError("old"), ServerError("x")])
            t.poll_failed(PollFailed(task_id, error, now, None))
        elif action < 0.95:
            record = t.get(task_id)
            if record and record.task and record.task.results:
                t.download_saved(task_id, rng.choice(record.task.results).id, "/x.mp3")
        else:
            loaded = [dataclass_copy(r) for r in t.records.values()]
            t.merge_loaded(loaded[: rng.randint(0, len(loaded))], [task_id], now)
        now += rng.uniform(0, 600)
        if step % 50 == 0:
            counts, expiring = recount(t, now, 24)
            assert {k: v for k, v in t.counts.items() if v} == counts, step
            assert t.expiring_unsaved(now, 24) == expiring, step
            assert all(v >= 0 for v in t.counts.values())


def dataclass_copy(record: TrackedTask) -> TrackedTask:
    import dataclasses

    return dataclasses.replace(record, downloads=dict(record.downloads))


def test_undo_skips_a_removed_id_that_was_added_again(tracker: Tracker) -> None:
    tracker.remove(["a"])
    tracker.add(["a"], now=50.0)  # pasted again by hand
    assert tracker.undo() == []  # nothing left to bring back; no duplicate row
    assert list(tracker.records) == ["b", "a"]
    assert tracker.counts["pending"] == 2


def test_clip_keys_never_collide() -> None:
    from tui.api.models import Clip
    from tui.domain.tracked import clip_keys

    def clip(clip_id: str | None) -> Clip:
        return Clip(clip_id, None, None, None, None, None, None, None)

    keys = clip_keys([clip(None), clip("#1"), clip("dup"), clip("dup"), clip("solo")])
    assert keys == ["#1", "#2", "#3", "#4", "solo"]
    assert len(set(keys)) == len(keys)


def test_a_submitted_task_is_added_with_its_request_and_saved(tracker: Tracker) -> None:
    record = tracker.add_submitted("gen1", {"title": "Rain", "tags": 5}, now=30.0, status="queuing")
    assert list(tracker.records) == ["a", "b", "gen1"]
    assert record.request == {"title": "Rain"}  # as from_json reads it: the number dropped
    assert record.submitted_at == 30.0 and record.submitted
    # Counted as queuing, which is what the generate answer said.
    assert record.status == "queuing" and tracker.counts["queuing"] == 1
    assert tracker.counts["pending"] == 2
    assert set(tracker.changes().upserts) == {"gen1"}
    tracker.polled(polled("gen1", "queuing"))
    assert not tracker.records["gen1"].submitted and tracker.records["gen1"].request


def test_a_task_handed_over_first_gets_the_request_attached_once(tracker: Tracker) -> None:
    first = tracker.add_submitted("a", {"tags": "pop"}, now=30.0)
    assert first is tracker.records["a"] and list(tracker.records) == ["a", "b"]
    assert first.request == {"tags": "pop"} and first.submitted_at == 30.0
    assert set(tracker.changes().upserts) == {"a"}
    again = tracker.add_submitted("a", {"tags": "rock"}, now=40.0)
    assert again.request == {"tags": "pop"} and again.submitted_at == 30.0
    assert not tracker.dirty
    assert tracker.counts["pending"] == 1 and tracker.counts["queuing"] == 1


def test_a_request_made_while_the_file_was_read_is_kept() -> None:
    t = Tracker()
    t.add_submitted("gen1", {"tags": "pop"}, now=5.0)
    t.merge_loaded([TrackedTask("gen1", 1.0)], [], now=6.0)
    assert t.records["gen1"].request == {"tags": "pop"}
    assert t.records["gen1"].added_at == 1.0
    assert "gen1" in t.changes().upserts


@pytest.mark.parametrize(
    ("request_body", "label"),
    [
        ({"title": "  Rain  ", "prompt": "la"}, "Rain"),
        ({"gpt_description_prompt": "\n\n  a song about rain\nmore"}, "a song about rain"),
        ({"prompt": "[Intro]\n\n[Verse 1]\nwet   streets shine\n"}, "wet streets shine"),
        ({"prompt": "[Verse]", "tags": "lo-fi, chill"}, "lo-fi, chill"),
        ({"title": " ", "tags": "x" * 100}, "x" * 59 + "…"),
        ({"make_instrumental": True, "prompt": "   "}, None),
    ],
)
def test_a_request_label_says_what_the_task_is(request_body: dict, label: str | None) -> None:
    record = TrackedTask("gen1", 1.0, request=request_body)
    assert record.request_label == label
    assert record.generate_request is not None
    assert TrackedTask("plain", 1.0).request_label is None


def test_the_request_survives_the_old_task_file_format() -> None:
    request = {"tags": "pop", "retention_days": 3}
    record = TrackedTask("gen1", 1.0, request=request, submitted_at=2.0)
    back = TrackedTask.from_toml(record.to_toml())
    assert back is not None and back.request == record.request and back.submitted_at == 2.0
    hostile = TrackedTask.from_toml({"id": "gen2", "added_at": 1.0, "request": ["x"]})
    assert hostile is not None and hostile.request is None
