"""Task IDs taken out of pasted URLs and JSON answers (issue #12, item 13)."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.api.ids import MAX_JSON_DEPTH, MAX_JSON_PASTE, is_valid_task_id, parse_task_ids
from tui.ui import wording


@pytest.mark.parametrize(
    ("url", "task_id"),
    [
        ("https://musicmint.example/task/zzzz9999", "zzzz9999"),
        ("https://musicmint.example/task/zzzz9999/", "zzzz9999"),
        ("https://musicmint.example/task/zzzz9999?ref=share&utm=x#player", "zzzz9999"),
        ("HTTPS://musicmint.example/Tasks/abc-1_2/details", "abc-1_2"),
        ("https://musicmint.example/share?task_id=q1&id=other", "q1"),
        ("https://musicmint.example/share?id=q2#top", "q2"),
        ("https://musicmint.example/app#/task/frag1", "frag1"),
        ("http://127.0.0.1:8811/abc123", "abc123"),
        ("https://musicmint.example/task/abc%5Fdef", "abc_def"),
    ],
)
def test_a_url_gives_its_task_id(url: str, task_id: str) -> None:
    out = parse_task_ids(url)
    assert out.valid == [task_id]
    assert out.invalid == []
    assert (out.extracted, out.urls, out.json_values) == (1, 1, 0)
    assert out.origins == {task_id: "url"}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://musicmint.example/", "no task ID in this URL"),
        ("https://musicmint.example/api/tasks/", "no task ID in this URL"),
        ("https://musicmint.example/a.b?x=1", "no task ID in this URL"),
        ("https://musicmint.example/task/a%2F..", "its task ID 'a/..': contains a path character"),
        ("https://musicmint.example/task/a%20b", "its task ID 'a b': contains a space"),
        ("http://[::1/task/abc", "not a URL that can be read"),
    ],
)
def test_a_url_without_a_usable_id_is_refused_with_the_reason(url: str, reason: str) -> None:
    out = parse_task_ids(url)
    assert out.valid == [] and out.urls == 0
    [(shown, why)] = out.invalid
    assert shown == url[:40] + ("…" if len(url) > 40 else "")
    assert why.startswith(reason)


def test_other_schemes_are_not_urls_to_us() -> None:
    out = parse_task_ids("ftp://host/task/abc javascript:alert(1)")
    assert out.valid == [] and out.urls == 0
    assert [shown for shown, _ in out.invalid] == ["ftp://host/task/abc", "javascript:alert(1)"]


def test_a_generation_answer_gives_its_task_id() -> None:
    out = parse_task_ids('{"code": 0, "message": "ok", "data": {"task_id": "abc123"}}')
    assert out.valid == ["abc123"] and out.invalid == []
    assert (out.extracted, out.urls, out.json_values) == (1, 0, 1)
    assert out.origins == {"abc123": "json"}


def test_several_answers_pretty_printed_and_mixed_with_ids_and_urls() -> None:
    one = json.dumps({"code": 0, "data": {"task_id": "gen1"}}, indent=2)
    two = json.dumps({"code": 0, "data": {"task_id": "gen2"}})
    pasted = f"typed1\n{one}\n{two}, https://musicmint.example/task/url1 typed1 known"
    out = parse_task_ids(pasted, known={"known"})
    assert out.valid == ["typed1", "gen1", "gen2", "url1"]
    assert out.duplicates == ["known"] and out.repeated == ["typed1"] and out.invalid == []
    assert (out.extracted, out.urls, out.json_values) == (3, 1, 2)
    assert out.added_from("json") == 2 and out.added_from("url") == 1


def test_a_task_list_gives_task_ids_not_clip_ids() -> None:
    listing = {
        "code": 0,
        "data": {
            "tasks": [
                {"task_id": "t1", "results": [{"id": "clip-a", "title": "x"}]},
                {"task_id": "t2", "status": "queuing"},
            ]
        },
    }
    out = parse_task_ids(json.dumps(listing))
    assert out.valid == ["t1", "t2"]
    assert out.json_values == 1


def test_a_json_list_of_ids_and_answers() -> None:
    out = parse_task_ids('["a1", {"task_id": "a2", "tags": ["not-an-id"]}, "a3"]')
    assert out.valid == ["a1", "a2", "a3"]
    assert (out.extracted, out.json_values) == (3, 1)


def test_a_task_id_that_is_not_text_is_refused_not_guessed() -> None:
    out = parse_task_ids('{"task_id": 12345} {"task_id": null} [{"task_id": {"x": 1}}]')
    assert out.valid == []
    assert out.invalid == [
        ("task_id 12345", "a task_id that is int, not text"),
        ("task_id null", "a task_id that is null, not text"),
        ('task_id {"x": 1}', "a task_id that is dict, not text"),
    ]
    assert out.json_values == 0 and out.extracted == 0


def test_a_number_too_long_to_read_is_refused_not_a_crash() -> None:
    out = parse_task_ids('{"task_id": ' + "1" * 5_000 + "} after")
    assert out.valid == ["after"]
    assert out.invalid[0][1].startswith("JSON that cannot be read (Exceeds the limit")


def test_json_that_says_nothing_useful_is_refused_with_the_reason() -> None:
    out = parse_task_ids('{"code": 1001, "message": "bad key"} {"task_id": "bad/id"}')
    assert out.invalid == [
        ('{"code": 1001, "message": "bad key"}', "JSON with no task_id in it"),
        ("bad/id", "contains a path character ('/' or '..')"),
    ]


def test_a_truncated_answer_is_one_refusal() -> None:
    cut = '{\n  "code": 0,\n  "data": {\n    "task_id": "abc",\n    "status": "que'
    out = parse_task_ids("before1 " + cut)
    assert out.valid == ["before1"]
    [(shown, why)] = out.invalid
    assert shown.startswith('{\\x0a  "code": 0,') and shown.endswith("…")
    assert why == "not valid JSON (Unterminated string starting at line 5 column 15)"


def test_after_broken_json_the_paste_goes_on() -> None:
    out = parse_task_ids('{"task_id": "abc" "status": 1}\nafter1')
    assert out.invalid[0] == (
        '{"task_id": "abc"',
        "not valid JSON (Expecting ',' delimiter at line 1 column 19)",
    )
    assert "after1" in out.valid and "abc" not in out.valid


def test_brackets_that_are_not_json_keep_the_usual_reason() -> None:
    out = parse_task_ids("[abc] {abc}")
    assert [why.split(";")[0] for _, why in out.invalid] == ["contains '['", "contains '{'"]


def test_text_glued_after_json_is_not_lost() -> None:
    out = parse_task_ids('{"task_id":"a"}b')
    assert out.valid == ["a", "b"]


def test_deep_nesting_is_not_searched_past_the_bound() -> None:
    shallow = '{"a":' * (MAX_JSON_DEPTH - 1) + '{"task_id":"found"}' + "}" * (MAX_JSON_DEPTH - 1)
    assert parse_task_ids(shallow).valid == ["found"]
    deep = '{"a":' * (MAX_JSON_DEPTH + 5) + '{"task_id":"hidden"}' + "}" * (MAX_JSON_DEPTH + 5)
    out = parse_task_ids(deep)
    assert out.valid == []
    assert out.invalid[0][1] == f"nested over {MAX_JSON_DEPTH} levels: not searched deeper"


def test_nesting_too_deep_for_the_json_parser_is_refused_quickly() -> None:
    started = time.perf_counter()
    out = parse_task_ids("[" * 30_000 + "]" * 30_000 + " after")
    assert out.invalid[0][1] == "JSON nested too deeply to read"
    assert out.valid == ["after"]
    assert time.perf_counter() - started < 1


def test_huge_json_is_not_read_and_says_so() -> None:
    huge = json.dumps([{"task_id": f"t{i}"} for i in range(70_000)])
    assert len(huge) > MAX_JSON_PASTE
    started = time.perf_counter()
    out = parse_task_ids("first " + huge)
    assert time.perf_counter() - started < 1
    assert out.valid == ["first"]
    [(shown, why)] = out.invalid
    assert shown.startswith('[{"task_id": "t0"}') and shown.endswith("…")
    assert why == (
        "JSON is read only in a paste of up to 1,000,000 characters;"
        " the paste from here on was not read"
    )


def test_many_brackets_are_not_read_one_by_one() -> None:
    started = time.perf_counter()
    out = parse_task_ids("[ " * 200_000)
    assert time.perf_counter() - started < 1
    assert len(out.invalid) == 1 and "over 50,000 objects and arrays" in out.invalid[0][1]


def test_many_pieces_of_broken_json_are_bounded() -> None:
    broken = '{"task_id": "x" ' * 5_000
    started = time.perf_counter()
    out = parse_task_ids(broken)
    assert time.perf_counter() - started < 2
    assert out.valid == []
    reasons = [why for _, why in out.invalid]
    assert sum(why.startswith("not valid JSON") for why in reasons) == 5
    assert "not read: too many pieces of broken JSON in this paste" in reasons


@given(st.text(alphabet='{}[]":,task_id hps/?=#.0aA-\n\\', max_size=200))
def test_any_paste_is_classified_without_error(pasted: str) -> None:
    out = parse_task_ids(pasted)
    assert all(is_valid_task_id(t) for t in out.valid + out.duplicates + out.repeated)
    assert set(out.origins) <= set(out.valid)


@pytest.mark.parametrize(
    ("pasted", "summary", "extracted"),
    [
        ("abc", "Added 1 task.", None),
        ("https://h/task/u1", "Added 1 task (1 from a URL).", "Extracted 1 ID from 1 URL"),
        (
            'https://h/task/u1 {"task_id": "j1"} {"task_id": "known"} bad/id',
            "Added 2 tasks (1 from a URL, 1 from JSON); 1 already tracked; 1 skipped as invalid.",
            "Extracted 3 IDs from 1 URL and 2 JSON responses",
        ),
    ],
)
def test_what_the_dialog_and_the_notification_say(pasted, summary, extracted) -> None:
    parsed = parse_task_ids(pasted, known={"known"})
    assert wording.add_summary(parsed) == summary
    assert wording.extracted(parsed) == extracted
