"""The waveform and timeline endpoints against the real simulator on loopback:
data that agrees with the clip's audio, errors and every fault kind; and the
demo audio itself."""

from __future__ import annotations

import json
import math
from pathlib import Path

import httpx
import miniaudio
import pytest

from tui.api import (
    MusicMintClient,
    NotFoundError,
    ProtocolError,
    ResultExpiredError,
    ServerError,
)
from tui.api.media import MAX_POINTS, MAX_WORDS
from tui.simulator import SimulatorServer, make_demo_audio
from tui.simulator.faults import MEDIA_JUNK
from tui.simulator.lifecycle import EXPIRE_NEVER, EXPIRE_PAST, clip_id
from tui.simulator.media import ENVELOPE_RATE, POINTS_PER_SECOND, demo_length
from tui.simulator.state import assets_dir

from .conftest import KEY, FakeClock

LYRICS = "[Verse]\nneon rain on the harbor\n\nwe keep the engines low\n[Chorus]\nnorthbound"


def _finished_clip(sim_server: SimulatorServer, clock: FakeClock, **look: object) -> dict:
    """A clip of a task that finished an hour ago, as the task serves it."""
    task_id = f"media-{len(sim_server.sim.book.plans)}"
    sim_server.sim.book.seed(
        task_id, outcome="completed", expiries=(EXPIRE_NEVER,), age=3600, **look
    )
    clip = sim_server.sim.book.clip(clip_id(task_id, 0))
    assert clip is not None
    return clip


def inject(sim_server: SimulatorServer, spec: dict) -> httpx.Response:
    return httpx.post(
        f"{sim_server.url}/_sim/faults", json=spec, headers={"Authorization": f"Bearer {KEY}"}
    )


# -- the demo audio ------------------------------------------------------------
def test_the_demo_audio_is_long_enough_to_hear_a_seek_and_small() -> None:
    data = (assets_dir() / "sample.mp3").read_bytes()
    decoded = miniaudio.decode(data)
    assert decoded.num_frames / decoded.sample_rate >= 20
    assert len(data) <= 200 * 1024
    total = sum(p.stat().st_size for p in assets_dir().iterdir() if p.suffix != ".svg")
    assert total <= 1024 * 1024


def test_the_script_makes_the_committed_file_again(tmp_path: Path) -> None:
    """Reproducible: the script (with the locked lameenc, a dev dependency)
    writes exactly the committed bytes."""
    out = tmp_path / "again.mp3"
    assert make_demo_audio.main(["--out", str(out)]) == 0
    assert out.read_bytes() == (assets_dir() / "sample.mp3").read_bytes()


# -- waveform ------------------------------------------------------------------
async def test_the_waveform_is_the_audios_loudness(client, sim_server, clock) -> None:
    clip = _finished_clip(sim_server, clock)
    waveform = await client.get_waveform(clip["id"])
    duration = clip["duration"]
    assert len(waveform.peaks) == min(MAX_POINTS, round(duration * POINTS_PER_SECOND))
    assert max(waveform.peaks) == 1.0

    def mean(start: float, end: float) -> float:
        part = waveform.peaks[round(start * POINTS_PER_SECOND) : round(end * POINTS_PER_SECOND)]
        return sum(part) / len(part)

    # The demo is loud over 8-16 s and all but silent over 16-20 s, every loop.
    for loop in range(int(duration // demo_length())):
        at = loop * demo_length()
        assert mean(at + 8.5, at + 15.5) > 5 * mean(at + 16.5, at + 19.5)
        assert mean(at + 0.5, at + 2) < mean(at + 8.5, at + 15.5)


async def test_the_waveform_matches_the_audio_served_for_the_clip(
    client, sim_server, clock
) -> None:
    clip = _finished_clip(sim_server, clock)
    waveform = await client.get_waveform(clip["id"])
    task = await client.get_task(next(iter(sim_server.sim.book.plans)))
    audio_url = next(c.audio_url for c in task.results if c.id == clip["id"])
    assert audio_url
    data = httpx.get(audio_url).content
    decoded = miniaudio.decode(data, nchannels=1, sample_rate=8000)
    samples = decoded.samples
    assert abs(len(samples) / 8000 - clip["duration"]) < 0.05  # cut at the clip's length
    per_point = len(samples) / len(waveform.peaks)
    measured = []
    for i in range(len(waveform.peaks)):
        part = samples[int(i * per_point) : int((i + 1) * per_point)]
        measured.append(max(max(part), -min(part)))
    loudest = max(measured)
    errors = [abs(m / loudest - p) for m, p in zip(measured, waveform.peaks, strict=True)]
    assert sum(errors) / len(errors) < 0.05  # allowing for the envelope's 20 ms steps
    assert ENVELOPE_RATE >= POINTS_PER_SECOND


async def test_an_unknown_or_unfinished_clip_is_not_found(client, sim_server, clock) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.get_waveform("clip-0000000000")
    assert caught.value.code == 4004 and caught.value.http_status == 404
    sim_server.sim.book.seed("running", outcome="completed", expiries=(EXPIRE_NEVER,))
    with pytest.raises(NotFoundError):
        await client.get_timeline(clip_id("running", 0))
    sim_server.sim.book.seed("gone", outcome="completed", expiries=(EXPIRE_PAST,), age=3600)
    with pytest.raises(NotFoundError):
        await client.get_waveform(clip_id("gone", 0))


def test_a_missing_or_bad_clip_id_is_refused(sim_server) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    for query in ("", "?clip_id=", "?clip_id=..%2Fx", "?other=1"):
        answer = httpx.get(f"{sim_server.url}/api/v1/music/waveform{query}", headers=auth)
        assert (answer.status_code, answer.json()["code"]) == (400, 4000), query
    answer = httpx.get(f"{sim_server.url}/api/v1/music/timeline?clip_id=c1")
    assert answer.status_code == 401


# -- timeline ------------------------------------------------------------------
async def test_the_timeline_sings_the_prompt_within_the_clip(client, sim_server, clock) -> None:
    clip = _finished_clip(sim_server, clock, prompt=LYRICS)
    timeline = await client.get_timeline(clip["id"])
    assert [[w.text for w in line] for line in timeline.lines()] == [
        ["neon", "rain", "on", "the", "harbor"],
        ["we", "keep", "the", "engines", "low"],
        ["northbound"],
    ]
    starts = [w.start for w in timeline.words]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert timeline.words[0].start > 0 and timeline.words[-1].end <= clip["duration"]
    line, index = timeline.line_at(timeline.words[6].start + 0.01)
    assert line[index].text == "keep"


async def test_a_long_prompt_in_a_short_clip_still_fits(client, sim_server, clock) -> None:
    prompt = "\n".join(" ".join(f"w{i}-{j}" for j in range(8)) for i in range(60))
    clip = _finished_clip(sim_server, clock, prompt=prompt, min_duration=0.0)
    timeline = await client.get_timeline(clip["id"])
    assert len(timeline.words) == 480 and len(timeline.lines()) == 60
    assert timeline.words[-1].end <= clip["duration"]
    assert [w.text for w in timeline.words] == prompt.split()


async def test_an_instrumental_has_an_empty_timeline(client, sim_server, clock) -> None:
    clip = _finished_clip(sim_server, clock, prompt="")
    timeline = await client.get_timeline(clip["id"])
    assert not timeline and timeline.line_at(10.0) == ((), None)
    assert await client.get_waveform(clip["id"])  # the music is there all the same


# -- faults --------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ["waveform", "timeline"])
async def test_faults_give_the_matching_errors(client, sim_server, clock, endpoint) -> None:
    clip = _finished_clip(sim_server, clock)["id"]
    get = client.get_waveform if endpoint == "waveform" else client.get_timeline
    kind = f"{endpoint}_error"
    cases = [
        ({"status": 404}, NotFoundError, 4004, 404),
        ({}, ServerError, 5000, 500),
        ({"code": 4005}, ResultExpiredError, 4005, 200),
        ({"junk": "not_json"}, ProtocolError, None, 200),
    ]
    for extra, error, code, status in cases:
        assert inject(sim_server, {"clip_id": clip, "kind": kind, "times": 1, **extra}).is_success
        with pytest.raises(error) as caught:
            await get(clip)
        assert (caught.value.code, caught.value.http_status) == (code, status), extra
        assert await get(clip)  # "times": 1, then the normal answer


async def test_junk_waveforms_are_bounded(client, sim_server, clock) -> None:
    clip = _finished_clip(sim_server, clock)["id"]
    results = {}
    for junk in ("nan", "huge", "disorder"):
        inject(sim_server, {"clip_id": clip, "kind": "waveform_error", "junk": junk, "times": 1})
        results[junk] = (await client.get_waveform(clip)).peaks
    assert results["nan"] == (0.0, 1.0, 0.0, 0.5, 0.0)
    huge = results["huge"]
    assert len(huge) == MAX_POINTS and huge[MAX_POINTS // 2] == 1.0 and sum(huge) == 1.0
    assert results["disorder"] == (0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.25)


async def test_junk_timelines_are_bounded(client, sim_server, clock) -> None:
    clip = _finished_clip(sim_server, clock)["id"]
    results = {}
    for junk in ("nan", "huge", "disorder"):
        inject(sim_server, {"clip_id": clip, "kind": "timeline_error", "junk": junk, "times": 1})
        results[junk] = (await client.get_timeline(clip)).words
    assert [w.text for w in results["nan"]] == ["sung"]
    assert len(results["huge"]) == MAX_WORDS
    assert [(w.text, w.start, w.end) for w in results["disorder"]] == [
        ("first", 1.0, 1.5),
        ("backwards", 2.0, 2.0),
        ("third", 3.0, 3.5),
    ]


async def test_a_fault_for_every_clip_yields_to_one_for_a_clip(client, sim_server, clock) -> None:
    one, other = (_finished_clip(sim_server, clock)["id"] for _ in range(2))
    assert inject(sim_server, {"kind": "timeline_error", "status": 503}).is_success
    assert inject(sim_server, {"kind": "timeline_error", "clip_id": one, "code": 4005}).is_success
    with pytest.raises(ResultExpiredError):
        await client.get_timeline(one)
    with pytest.raises(ServerError):
        await client.get_timeline(other)
    assert await client.get_waveform(other)  # the waveform is untouched
    assert inject(sim_server, {"kind": "clear"}).is_success
    await client.get_timeline(other)


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "waveform_error", "junk": "lots"},
        {"kind": "waveform_error", "status": 99},
        {"kind": "waveform_error", "status": "500"},
        {"kind": "timeline_error", "code": True},
        {"kind": "timeline_error", "code": 10**20},
        {"kind": "timeline_error", "clip_id": 5},
    ],
)
def test_a_bad_media_fault_is_refused(sim_server, spec: dict) -> None:
    answer = inject(sim_server, spec)
    assert (answer.status_code, answer.json()["code"]) == (400, 4000)
    assert sim_server.sim.media_faults == {}


def test_simulate_help_lists_the_media_faults(capsys) -> None:
    from tui.cli.main import main

    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = capsys.readouterr().out.split("\nwaveform and timeline:\n", 1)[1]
    flat = " ".join(text.split())
    assert "waveform_error and timeline_error" in flat
    for junk in MEDIA_JUNK:
        assert f"{junk} (" in flat
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "`waveform_error` or `timeline_error`" in " ".join(readme.split())
    for junk in MEDIA_JUNK:
        assert f"`{junk}`" in readme


async def test_the_help_example_is_a_fault_the_simulator_takes(sim_server, clock) -> None:
    from tui.cli.parsers import SIMULATE_EPILOG

    section = SIMULATE_EPILOG.split("\nwaveform and timeline:\n", 1)[1]
    example = json.loads(section.split("-d '", 1)[1].split("'", 1)[0])
    clip = _finished_clip(sim_server, clock)["id"]
    example["clip_id"] = clip
    assert inject(sim_server, example).is_success
    async with MusicMintClient(sim_server.url, KEY) as client:
        with pytest.raises(ResultExpiredError):
            await client.get_waveform(clip)


def test_clip_audio_is_whole_frames_of_the_clips_length() -> None:
    from tui.simulator.media import clip_audio, demo_audio, mp3_frames

    for seconds in (0.01, 23.9, demo_length(), 60.0, 166.3):
        data = clip_audio(seconds)
        offsets, per_frame, rate = mp3_frames(data)
        length = len(offsets) * per_frame / rate
        assert seconds <= length < seconds + per_frame / rate + 1e-6
    assert clip_audio(demo_length() * 2) == demo_audio() * 2
    assert math.isclose(demo_length(), make_demo_audio.DURATION, abs_tol=0.1)
