"""The benchmark runs end to end at toy sizes, so it cannot rot.

Numbers are not judged here (timed assertions flake); the real run is
``uv run python -m tests.benchmarks`` and its table lives in the README. The
phases are split over three tests so that the test workers share the wait.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.benchmarks.perf import Sizes, run, table

SIZES = Sizes(
    tasks=20,
    interval=0.2,
    duration=0.4,
    startup_tasks=200,
    idle_tasks=50,
    idle_seconds=0.2,
    key_presses=5,
    scale_tasks=(300,),
    store_tasks=300,
    active_tasks=40,
    terminal_cases=(("idle", 200), ("active", 40)),
    terminal_presses=3,
    burst_tasks=30,
    burst_interval=0.3,
    listen_tasks=12,
    listen_seconds=0.3,
    listen_windows=1,
)


def test_benchmark_smoke_polling_phases(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    results = run(SIZES, out, log=lambda message: None, phases=frozenset({2, 3}))
    saved = json.loads(out.read_text())
    assert saved["sizes"]["tasks"] == 20
    assert results["baseline"]["polls"] > 0 and results["poller"]["polls"] > 0
    assert results["app"]["polls"] > 0 and results["app"]["cpu_per_poll_ms"] > 0
    assert len([v for v in [results["app"]["key_to_screen_p99_ms"]] if v > 0]) == 1
    assert "full-app CPU per poll ≤ 1.5 × baseline" in results["targets"]
    assert all(isinstance(v, bool) for v in results["targets"].values())
    rendered = table(results)
    assert "baseline" in rendered and "3 app" in rendered and "idle" not in rendered


def test_benchmark_smoke_load_phases(tmp_path: Path) -> None:
    results = run(SIZES, tmp_path / "bench.json", log=lambda m: None, phases=frozenset({8, 9, 11}))
    assert results["active"]["polls"] > 0 and results["churn"]["polls"] > 0
    assert results["burst"]["tasks"] == 30 and results["burst"]["notifications"] >= 1
    assert "11 burst" in table(results)
    assert results["active_baseline"]["polls_per_s"] > 0
    assert "churn: full-app CPU per poll ≤ 1.5 × baseline" in results["targets"]
    rendered = table(results)
    assert "8 active" in rendered and "9 churn" in rendered


def test_benchmark_smoke_listening_phase(tmp_path: Path) -> None:
    results = run(SIZES, tmp_path / "bench.json", log=lambda m: None, phases=frozenset({12}))
    listening = results["listening"]
    assert listening["state_while_measured"] == "playing" and listening["lyrics_on_screen"]
    assert len(listening["cpu_windows_pct"]) == len(listening["lyrics_cpu_windows_pct"]) == 1
    assert "12 listening" in table(results)


def test_benchmark_smoke_list_phases(tmp_path: Path) -> None:
    results = run(
        SIZES, tmp_path / "bench.json", log=lambda m: None, phases=frozenset({4, 5, 6, 7})
    )
    assert results["startup"]["tasks"] == 200
    assert results["idle"]["tasks"] > 0
    assert results["scale"]["300"]["tasks"] > 0 and results["scale"]["300"]["rss_mb"] > 0
    assert results["store"]["rows_per_batch"] == 100
    assert "baseline" not in results
    rendered = table(results)
    assert "4 startup" in rendered and "7 store" in rendered


@pytest.mark.skipif(shutil.which("tmux") is None, reason="phase 10 drives a real terminal: tmux")
def test_benchmark_smoke_terminal_phase(tmp_path: Path) -> None:
    results = run(SIZES, tmp_path / "bench.json", log=lambda m: None, phases=frozenset({10}))
    idle, active = results["terminal"]["idle 200"], results["terminal"]["active 40"]
    assert idle["tasks"] == 200
    assert active["keys"] == 3 + 2 + 5  # moves, sorts, then "/", three characters, backspace
    assert all(case["p99_ms"] > 0 for case in (idle, active))
    assert "10 terminal, active 40" in table(results)
