"""Waveform and timeline answers as tui.api.media reads them: good data, and
every hostile shape bounded without a crash. Byte-level cases only; the
endpoints against a real server are in test_simulator_media.py."""

from __future__ import annotations

import json
import math

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.api import (
    InvalidTaskIdError,
    MusicMintClient,
    NotFoundError,
    ProtocolError,
    ResultExpiredError,
    ServerError,
)
from tui.api.media import (
    LINE_GAP,
    MAX_LINE_WORDS,
    MAX_POINTS,
    MAX_WORD_CHARS,
    MAX_WORDS,
    Timeline,
    Waveform,
    Word,
    media_path,
    parse_timeline,
    parse_waveform,
)


def ok(data: object) -> bytes:
    return json.dumps({"code": 0, "message": "ok", "data": data}).encode()


def raw_ok(data: str) -> bytes:
    return b'{"code":0,"message":"ok","data":' + data.encode() + b"}"


def aligned(*words: tuple[object, object, object]) -> bytes:
    return ok({"aligned": [{"word": w, "start": s, "end": e} for w, s, e in words]})


# -- waveform ----------------------------------------------------------------
def test_a_good_waveform_is_kept_as_sent() -> None:
    assert parse_waveform(200, {}, ok([0.0, 0.25, 1.0, 0.5])).peaks == (0.0, 0.25, 1.0, 0.5)


def test_waveform_values_that_are_not_amplitudes_become_0_or_1() -> None:
    body = raw_ok(
        '[NaN, Infinity, -Infinity, -0.5, 1.5, "0.7", null, true, false, 1e308,'
        " 100000000000000000000000000000, -7, 1, {}, [], 0.25]"
    )
    peaks = parse_waveform(200, {}, body).peaks
    assert peaks == (0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0.25)
    assert all(type(p) is float for p in peaks)


def test_a_million_points_are_reduced_keeping_every_peak() -> None:
    values = [0.0] * 1_000_000
    values[0], values[123_456], values[-1] = 0.5, 1.0, 0.75
    waveform = parse_waveform(200, {}, ok(values))
    assert len(waveform.peaks) == MAX_POINTS
    # 500 input points per bucket: each spike lands in its own bucket, undiminished.
    assert waveform.peaks[0] == 0.5 and waveform.peaks[123_456 // 500] == 1.0
    assert waveform.peaks[-1] == 0.75
    assert sum(waveform.peaks) == 2.25


def test_an_empty_waveform_is_empty_not_an_error() -> None:
    waveform = parse_waveform(200, {}, ok([]))
    assert waveform.peaks == () and not waveform


@pytest.mark.parametrize("data", [None, {"peaks": [0.5]}, "0.5", 0.5])
def test_waveform_data_that_is_not_an_array_is_a_protocol_error(data: object) -> None:
    body = ok(data) if data is not None else b'{"code":0,"message":"ok"}'
    with pytest.raises(ProtocolError, match="not an array") as caught:
        parse_waveform(200, {}, body)
    assert caught.value.http_status == 200


def test_waveform_envelope_errors_map_like_every_endpoint() -> None:
    expired = b'{"code":4005,"message":"result expired","request_id":"r-1"}'
    with pytest.raises(ResultExpiredError) as caught:
        parse_waveform(200, {}, expired)
    assert caught.value.request_id == "r-1"
    with pytest.raises(NotFoundError):
        parse_waveform(404, {}, b'{"code":4004,"message":"clip not found"}')
    with pytest.raises(ServerError):
        parse_waveform(500, {}, b"<html>oops</html>")
    with pytest.raises(ProtocolError, match="HTML page"):
        parse_waveform(200, {"content-type": "text/html"}, b"<!doctype html><p>hi")


def test_resample_fits_any_width() -> None:
    waveform = Waveform((0.0, 1.0, 0.0, 0.5))
    assert waveform.resample(2) == (1.0, 0.5)
    assert waveform.resample(8) == (0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.5, 0.5)
    assert waveform.resample(0) == () and Waveform(()).resample(10) == ()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(), st.integers(), st.booleans(), st.none(), st.text())))
def test_any_waveform_array_gives_bounded_amplitudes(values: list[object]) -> None:
    body = json.dumps({"code": 0, "data": values}).encode()
    peaks = parse_waveform(200, {}, body).peaks
    assert len(peaks) == min(len(values), MAX_POINTS)
    assert all(0.0 <= p <= 1.0 for p in peaks)


# -- timeline ----------------------------------------------------------------
def test_a_good_timeline_is_kept_in_order() -> None:
    timeline = parse_timeline(200, {}, aligned(("Hello", 1.0, 1.4), ("world", 1.5, 2.0)))
    assert timeline.words == (Word("Hello", 1.0, 1.4), Word("world", 1.5, 2.0))


def test_words_out_of_order_are_sorted_and_bad_times_dropped_or_fixed() -> None:
    body = aligned(
        ("third", 3.0, 3.5),
        ("first", 1.0, 1.5),
        ("backwards", 2.0, 1.0),  # end before start: ends at its start
        ("negative", -1.0, 0.5),
        ("nan", math.nan, 1.0),
        ("inf", 0.5, math.inf),
        ("huge", 1e308, 1e308),
        ("bool", True, 2.0),
        ("text-times", "1", "2"),
        (42, 0.0, 0.1),
        (None, 0.0, 0.1),
    )
    timeline = parse_timeline(200, {}, body)
    assert [(w.text, w.start, w.end) for w in timeline.words] == [
        ("first", 1.0, 1.5),
        ("backwards", 2.0, 2.0),
        ("third", 3.0, 3.5),
    ]


def test_word_text_loses_control_characters_and_is_bounded() -> None:
    body = aligned(("a\x1b[31mb\x00c\u202ed", 0, 1), ("x" * 10_000, 1, 2), ("   ", 2, 3))
    words = parse_timeline(200, {}, body).words
    assert words[0].text == "a [31mb c d"
    assert len(words[1].text) == MAX_WORD_CHARS and words[1].text.endswith("…")
    assert len(words) == 2  # nothing left of the blank word


def test_at_most_max_words_are_kept_the_earliest() -> None:
    many = [{"word": "la", "start": i / 10, "end": i / 10 + 0.05} for i in range(100_000)]
    body = ok({"aligned": list(reversed(many))})
    words = parse_timeline(200, {}, body).words
    assert len(words) == MAX_WORDS
    assert words[0].start == 0.0 and words[-1].start == (MAX_WORDS - 1) / 10


@pytest.mark.parametrize(
    "data", [None, [], {"aligned": None}, {"aligned": "la"}, {"words": []}, "text"]
)
def test_timeline_without_an_aligned_array_is_a_protocol_error(data: object) -> None:
    with pytest.raises(ProtocolError, match="no aligned array"):
        parse_timeline(200, {}, ok(data))


def test_an_empty_aligned_array_is_an_empty_timeline() -> None:
    timeline = parse_timeline(200, {}, ok({"aligned": []}))
    assert not timeline and timeline.lines() == () and timeline.line_at(3.0) == ((), None)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "word": st.one_of(st.text(max_size=30), st.none(), st.integers()),
                "start": st.one_of(st.floats(), st.integers(), st.none(), st.text()),
                "end": st.one_of(st.floats(), st.integers(), st.none()),
            }
        ),
        max_size=50,
    )
)
def test_any_aligned_list_gives_sorted_sane_words(items: list[dict]) -> None:
    body = json.dumps({"code": 0, "data": {"aligned": items}}).encode()
    timeline = parse_timeline(200, {}, body)
    starts = [w.start for w in timeline.words]
    assert starts == sorted(starts)
    for word in timeline.words:
        assert 0 <= word.start <= word.end and math.isfinite(word.end)
        assert word.text and len(word.text) <= MAX_WORD_CHARS and word.text.isprintable()
    assert sum(len(line) for line in timeline.lines()) == len(timeline.words)


# -- lyric lines ---------------------------------------------------------------
def _timeline(*words: tuple[str, float, float]) -> Timeline:
    return parse_timeline(200, {}, aligned(*words))


def test_newlines_and_pauses_start_lines() -> None:
    timeline = _timeline(
        ("One", 1.0, 1.3),
        ("two\n", 1.4, 1.7),  # a break after "two": "three" starts a line
        ("three", 1.8, 2.0),
        ("four", 2.1, 2.4),
        ("\nfive", 2.5, 2.8),  # a break before: "five" starts one
        ("six", 2.9, 3.0),
        ("seven", 3.0 + LINE_GAP + 0.1, 5.0),  # a long pause
    )
    assert [[w.text for w in line] for line in timeline.lines()] == [
        ["One", "two"],
        ["three", "four"],
        ["five", "six"],
        ["seven"],
    ]


def test_a_pause_of_exactly_the_gap_keeps_the_line() -> None:
    timeline = _timeline(("a", 0.0, 1.0), ("b", 1.0 + LINE_GAP, 3.0))
    assert len(timeline.lines()) == 1


def test_text_without_breaks_is_split_into_bounded_lines() -> None:
    timeline = _timeline(*((f"w{i}", i * 0.3, i * 0.3 + 0.2) for i in range(40)))
    assert [len(line) for line in timeline.lines()] == [MAX_LINE_WORDS, MAX_LINE_WORDS, 8]


def test_line_at_finds_the_current_word() -> None:
    timeline = _timeline(("a", 1.0, 1.4), ("b", 1.5, 2.0), ("c", 5.0, 5.5), ("d", 5.6, 6.0))
    first, second = timeline.lines()
    assert timeline.line_at(0.0) == (first, None)  # before anything is sung
    assert timeline.line_at(1.0) == (first, 0)
    assert timeline.line_at(1.49) == (first, 0)
    assert timeline.line_at(3.0) == (first, 1)  # the pause after "b"
    assert timeline.line_at(5.7) == (second, 1)
    assert timeline.line_at(10_000.0) == (second, 1)
    assert timeline.line_at(math.nan) == (first, None)
    assert timeline.line_at(math.inf) == (second, 1)
    assert timeline.line_at(-math.inf) == (first, None)


def test_next_start_is_when_the_lit_word_next_changes() -> None:
    timeline = _timeline(("a", 1.0, 1.4), ("b", 1.5, 2.0), ("c", 5.0, 5.5))
    assert timeline.next_start(0.0) == 1.0
    assert timeline.next_start(1.0) == 1.5  # "a" is lit at 1.0: the next change is "b"
    assert timeline.next_start(3.0) == 5.0  # through the pause
    assert timeline.next_start(5.0) is None and timeline.next_start(1e9) is None
    assert timeline.next_start(math.nan) is None and timeline.next_start(math.inf) is None
    assert _timeline().next_start(0.0) is None


def test_within_drops_words_after_the_clip_and_cuts_the_last() -> None:
    timeline = _timeline(("a", 1.0, 1.4), ("b", 9.5, 11.0), ("c", 10.0, 12.0), ("d", 50.0, 51.0))
    inside = timeline.within(10.0)
    assert [(w.text, w.start, w.end) for w in inside.words] == [("a", 1.0, 1.4), ("b", 9.5, 10.0)]
    assert timeline.within(60.0) is timeline
    assert timeline.within(math.nan) is timeline and timeline.within(0.0) is timeline


def test_a_timeline_built_unsorted_sorts_itself() -> None:
    timeline = Timeline((Word("b", 2.0, 2.5), Word("a", 1.0, 1.5)))
    assert [w.text for w in timeline.words] == ["a", "b"]
    assert timeline.line_at(1.2) == (timeline.words, 0)


# -- clip IDs and the request ---------------------------------------------------
def test_clip_ids_are_checked_and_encoded() -> None:
    assert media_path("waveform", "clip-0a_9") == "/api/v1/music/waveform?clip_id=clip-0a_9"
    for bad in ("", "../etc", "a b", "a&b=c", "x" * 129, "a\x00"):
        with pytest.raises(InvalidTaskIdError, match="clip ID"):
            media_path("timeline", bad)
    with pytest.raises(InvalidTaskIdError, match="clip ID must be text"):
        media_path("timeline", 5)


async def test_the_client_sends_a_get_with_the_key_and_refuses_a_bad_id_unsent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/waveform"):
            return httpx.Response(200, content=ok([0.5, 1.0]))
        return httpx.Response(200, content=aligned(("hi", 0.5, 0.9)))

    transport = httpx.MockTransport(handler)
    async with MusicMintClient("http://mm.test", "sk-x", transport=transport) as c:
        assert (await c.get_waveform("c1")).peaks == (0.5, 1.0)
        assert (await c.get_timeline("c1")).words == (Word("hi", 0.5, 0.9),)
        with pytest.raises(InvalidTaskIdError):
            await c.get_waveform("c1&clip_id=other")
    assert [(r.method, str(r.url)) for r in seen] == [
        ("GET", "http://mm.test/api/v1/music/waveform?clip_id=c1"),
        ("GET", "http://mm.test/api/v1/music/timeline?clip_id=c1"),
    ]
    assert seen[0].headers["authorization"] == "Bearer sk-x" and not seen[0].content


async def test_a_truncated_or_oversized_answer_is_a_protocol_error() -> None:
    huge = b'{"code":0,"data":[' + b"0," * (5 * 1024 * 1024) + b"0]}"

    def handler(request: httpx.Request) -> httpx.Response:
        if "big" in str(request.url):
            return httpx.Response(200, content=huge)
        return httpx.Response(200, content=ok([0.5] * 10)[:20])

    async with MusicMintClient("http://mm.test", "k", transport=httpx.MockTransport(handler)) as c:
        with pytest.raises(ProtocolError, match="not valid JSON"):
            await c.get_waveform("cut")
        with pytest.raises(ProtocolError, match="larger than 8 MB"):
            await c.get_waveform("big")


async def test_gets_go_over_the_wire_keep_alive_and_resent_once_on_a_stale_connection() -> None:
    """Real sockets (the wire's own test server): a GET carries no body and
    no Content-Length, shares the keep-alive pool, and a reused connection
    the server closes unanswered is replaced once, as for the POST reads."""
    from .test_wire import answer, serving

    async def handler(reader, writer, n) -> None:
        if n == 2:
            writer.close()  # the second request: the keep-alive race
        else:
            writer.write(answer(ok([0.5])))

    async with serving(handler) as (raw, c):
        assert c._wire is not None  # the lean path, not httpx
        assert (await c.get_waveform("c1")).peaks == (0.5,)
        assert (await c.get_waveform("c1")).peaks == (0.5,)
    assert raw.connections == 2 and len(raw.requests) == 3
    first = raw.requests[0].decode()
    assert first.startswith("GET /api/v1/music/waveform?clip_id=c1 HTTP/1.1\r\n")
    assert "content-length" not in first.lower() and first.endswith("\r\n\r\n")
