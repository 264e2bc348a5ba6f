"""The benchmark runs end to end at toy sizes, so it cannot rot.

Numbers are not judged here (timed assertions flake); the real run is
``uv run python -m tests.benchmarks`` and its table lives in the README.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.benchmarks.perf import Sizes, run, table


def test_benchmark_smoke(tmp_path: Path) -> None:
    sizes = Sizes(
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
    )
    out = tmp_path / "bench.json"
    results = run(sizes, out, log=lambda message: None)
    saved = json.loads(out.read_text())
    assert saved["sizes"]["tasks"] == 20
    assert results["baseline"]["polls"] > 0 and results["poller"]["polls"] > 0
    assert results["app"]["polls"] > 0
    assert len([v for v in [results["app"]["key_to_screen_p99_ms"]] if v > 0]) == 1
    assert results["startup"]["tasks"] == 200
    assert results["idle"]["tasks"] > 0
    assert results["scale"]["300"]["tasks"] > 0 and results["scale"]["300"]["rss_mb"] > 0
    assert results["active"]["polls"] > 0 and results["churn"]["polls"] > 0
    assert results["store"]["rows_per_batch"] == 100 and results["app"]["cpu_per_poll_ms"] > 0
    assert set(results["targets"]) and all(isinstance(v, bool) for v in results["targets"].values())
    rendered = table(results)
    assert "baseline" in rendered and "idle" in rendered
