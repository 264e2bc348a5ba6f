"""Whatever the server sends, the parser raises only the client's own errors."""

from __future__ import annotations

import contextlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.api import MusicMintError, Task
from tui.api.envelope import parse_list_response, parse_retry_after, parse_task_response
from tui.api.ids import parse_task_ids, validate_task_id
from tui.api.models import EARLIEST_MS, LATEST_MS, MAX_DURATION_S
from tui.core.formatting import clip_length
from tui.domain.tracked import TrackedTask
from tui.ui.widgets.presentation import age_cell, expiry_cell, expiry_countdown

from .conftest import SPEC_CLIP_FIELDS
from .harness import theme_palette

NOW = 1_790_000_000.0
PALETTE = theme_palette("textual-dark")


def _in_range(stamp: int) -> bool:
    return stamp == 0 or EARLIEST_MS <= stamp <= LATEST_MS


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.integers(min_value=-(10**400), max_value=10**400)  # past float and SQLite range
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)

#: Envelopes that look nearly right, so the fuzzer reaches the deep parsing paths.
clip_like = st.fixed_dictionaries(
    {},
    optional={k: json_values for k in SPEC_CLIP_FIELDS},
)
data_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "status": st.sampled_from(["queuing", "processing", "completed", "failed", "???"])
        | json_values,
        "created_at": json_values,
        "results": st.lists(clip_like | json_values, max_size=3) | json_values,
        "error": json_values,
        "items": st.lists(st.dictionaries(st.text(max_size=8), json_values)) | json_values,
    },
)
envelope_like = st.fixed_dictionaries(
    {},
    optional={
        "code": st.sampled_from([0, 0, 0, 1003, 4004, 4005, 7]) | json_values,
        "message": json_values,
        "request_id": json_values,
        "data": data_like | json_values,
    },
)
statuses = st.sampled_from([200, 200, 200, 201, 204, 400, 401, 403, 404, 429, 500, 502, 503])


def _bytes(value: object) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


@settings(max_examples=400, deadline=None)
@given(status=statuses, body=envelope_like | json_values, retry=st.text(max_size=30))
def test_any_json_parses_or_raises_our_error(status: int, body: object, retry: str) -> None:
    headers = {"retry-after": retry, "content-type": "application/json"}
    for parse in (
        lambda: parse_task_response(status, headers, _bytes(body), expected_id="abc"),
        lambda: parse_list_response(status, headers, _bytes(body)),
    ):
        try:
            result = parse()
        except MusicMintError:
            continue
        if isinstance(result, Task):
            assert result.id
            assert result.created_at is None or _in_range(result.created_at)
            for clip in result.results:
                assert clip.duration is None or 0 <= clip.duration <= MAX_DURATION_S
                assert clip.expire_at is None or _in_range(clip.expire_at)
                # Whatever survived parsing can be shown without raising.
                clip_length(clip.duration)
                expiry_cell(TrackedTask("t", 0.0, result), NOW, palette=PALETTE)
                expiry_countdown(clip, NOW, palette=PALETTE)
            age_cell(result.created_at, NOW, palette=PALETTE)
            json.dumps(result.to_json(), allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(status=st.integers(min_value=100, max_value=599), body=st.binary(max_size=200))
def test_any_bytes_parse_or_raise_our_error(status: int, body: bytes) -> None:
    with contextlib.suppress(MusicMintError):
        parse_task_response(status, {}, body)


@given(st.text(max_size=40))
def test_retry_after_never_raises_and_is_never_negative(value: str) -> None:
    result = parse_retry_after(value)
    assert result is None or result >= 0


def test_retry_after_forms() -> None:
    assert parse_retry_after("12") == 12
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412470.0) == 10
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") == 0


@given(st.text(max_size=140))
def test_validator_accepts_exactly_the_safe_alphabet(text: str) -> None:
    safe = 1 <= len(text) <= 128 and all(c.isascii() and (c.isalnum() or c in "-_") for c in text)
    try:
        validate_task_id(text)
    except MusicMintError as exc:
        assert not safe, exc
        assert str(exc)
    else:
        assert safe


def test_pasted_list_is_split_and_classified() -> None:
    pasted = "abc, def\nghi  abc\tbad/id;../x\n\njkl, ,def"
    out = parse_task_ids(pasted, known={"jkl"})
    assert out.valid == ["abc", "def", "ghi"]
    assert out.duplicates == ["jkl"]
    assert out.repeated == ["abc", "def"]
    assert [token for token, _ in out.invalid] == ["bad/id", "../x"]
    assert all("path" in reason for _, reason in out.invalid)
