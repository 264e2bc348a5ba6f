"""The New track dialog's form: what request it makes, and its messages."""

from __future__ import annotations

from tui.api.generate import GenerateRequest
from tui.domain.compose_form import ComposeForm, check, counter, label_of


def messages(checked) -> dict[str, str]:
    return {problem.field: problem.message for problem in checked.problems}


def test_custom_form_keeps_section_lines_and_sends_only_its_mode() -> None:
    form = ComposeForm(
        lyrics="\n[Verse]\nline one\n\n[Chorus]\nla la\n\n",
        tags=" pop ",
        title="Song",
        description="kept for later, not sent",
    )
    checked = check(form)
    assert checked.problems == []
    assert checked.request == GenerateRequest(
        prompt="[Verse]\nline one\n\n[Chorus]\nla la", tags="pop", title="Song"
    )


def test_inspiration_sends_the_description_alone() -> None:
    form = ComposeForm(mode="inspiration", lyrics="typed in custom", description="a sea shanty")
    request = check(form).request
    assert request == GenerateRequest(gpt_description_prompt="a sea shanty")


def test_each_problem_names_its_field_in_the_dialogs_words() -> None:
    form = ComposeForm(
        retention_days="3x",
        continue_at="end",
        continue_clip_id="clip-1",
        tags="t" * 201,
        title="bad\x07",
    )
    checked = check(form)
    assert checked.request is None
    by_field = {p.field: p.message for p in checked.problems}
    assert by_field["retention_days"] == "Keep files: '3x' is not a whole number of days"
    assert by_field["continue_at"] == "Extend from: 'end' is not a whole number of seconds"
    assert by_field["tags"] == "Style tags: 201 characters, at most 200"
    assert "Title: contains a control character U+0007" in by_field["title"]
    assert check(ComposeForm()).problems == [
        ("lyrics", "Write lyrics or style tags (one is needed)", True)
    ]
    assert check(ComposeForm(mode="inspiration")).problems == [
        ("description", "Describe the song you want", True)
    ]


def test_extension_bounds_come_from_the_clip() -> None:
    form = ComposeForm(tags="rock", continue_clip_id="clip-1", continue_at="200")
    assert messages(check(form, clip_duration=185.0))["continue_at"] == (
        "Extend from: 200 s is past the clip's end (0 to 185 s)"
    )
    assert check(form, clip_duration=240.0).request is not None
    assert messages(check(ComposeForm(tags="x", retention_days="31"))) == {
        "retention_days": "Keep files: 31, must be 1 to 30"
    }


def test_draft_and_recall_round_trip_and_bound_what_they_read() -> None:
    form = ComposeForm(mode="inspiration", description="x", retention_days="3x", lyrics="a\nb")
    assert ComposeForm.from_json(form.to_json()) == form
    damaged = ComposeForm.from_json({"mode": "evil", "lyrics": 5, "tags": "t" * 5000, "z": 1})
    assert damaged.mode == "custom" and damaged.lyrics == "" and len(damaged.tags) == 1000
    request = GenerateRequest(prompt="[Verse]\nhi", tags="pop", retention_days=3)
    assert check(ComposeForm.from_request(request)).request == request
    assert ComposeForm.from_request(GenerateRequest(gpt_description_prompt="d")).mode == (
        "inspiration"
    )


def test_counts_and_labels() -> None:
    assert counter("lyrics", "x" * 1234 + "\n\n") == ("1,234 / 5,000", False)
    assert counter("description", "la " * 200) == ("599 / 500", True)
    assert label_of(GenerateRequest(prompt="[Verse]\n\nFirst real line")) == "First real line"
    assert label_of(GenerateRequest(tags="pop", title="Named")) == "Named"


def test_only_plain_digits_are_a_number() -> None:
    for typed in ("1_0", "+5", "３", "٣", "1e3"):
        problems = messages(check(ComposeForm(tags="x", retention_days=typed)))
        assert problems["retention_days"] == f"Keep files: '{typed}' is not a whole number of days"
    assert check(ComposeForm(tags="x", retention_days=" 10 ")).request.retention_days == 10
