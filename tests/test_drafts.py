"""The dialog's draft and history files."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tui.api.generate import GenerateRequest
from tui.domain.compose_form import ComposeForm
from tui.services.drafts import (
    HISTORY_SIZE,
    Aside,
    Drafts,
    DraftStore,
    History,
    Pending,
    Sent,
    set_aside,
)


def test_draft_is_kept_privately_and_cleared(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    assert store.load() == Drafts()
    form = ComposeForm(lyrics="[Verse]\nkeep me", retention_days="3x")
    store.save(Drafts(form))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert DraftStore(tmp_path).load() == Drafts(form)
    store.save(Drafts())  # nothing left: no file
    assert not store.path.exists()
    store.save(Drafts())  # twice is fine


def test_a_replaced_draft_is_set_aside_not_lost(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    first = ComposeForm(tags="first")
    aside = set_aside((), first, at=10.0)
    aside = set_aside(aside, first, at=11.0)  # the same form once
    aside = set_aside(aside, ComposeForm(), at=12.0)  # nothing typed: nothing kept
    store.save(Drafts(ComposeForm(tags="second"), aside))
    loaded = DraftStore(tmp_path).load()
    assert loaded.form == ComposeForm(tags="second")
    assert loaded.aside == (Aside(10.0, first),)


def test_a_damaged_draft_or_history_is_empty_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "draft.json").write_text("{not json")
    (tmp_path / "history.json").write_text(json.dumps({"not": "a list"}))
    assert DraftStore(tmp_path).load() == Drafts()
    assert History(tmp_path).load() == []
    (tmp_path / "draft.json").write_bytes(b" " * (3 * 1024 * 1024))
    assert DraftStore(tmp_path).load() == Drafts()


def test_history_keeps_the_newest_fifty(tmp_path: Path) -> None:
    history = History(tmp_path)
    for n in range(HISTORY_SIZE + 5):
        history.add(Sent(at=1000.0 + n, task_id=f"task-{n}", request=GenerateRequest(tags=f"t{n}")))
    entries = history.load()
    assert len(entries) == HISTORY_SIZE
    assert entries[0].task_id == f"task-{HISTORY_SIZE + 4}" and entries[0].request.tags == (
        f"t{HISTORY_SIZE + 4}"
    )
    raw = json.loads(history.path.read_text())
    raw[0]["at"] = "soon"
    raw[1]["request"] = "not an object"
    history.path.write_text(json.dumps(raw))
    again = History(tmp_path).load()
    assert again[0].at == 0.0 and len(again) == HISTORY_SIZE - 1


def test_a_send_without_answer_is_remembered_with_the_draft(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    pending = Pending(100.0, GenerateRequest(tags="pop"))
    store.save(Drafts(None, (), pending))
    assert DraftStore(tmp_path).load() == Drafts(None, (), pending)
