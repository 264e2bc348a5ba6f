"""Phase 10: keys end to end in a real terminal.

The app runs as a user runs it (``python -m tui`` in its own process, with its
own config and data folders) in a tmux pane of 200×60, against the simulator.
Each key is sent with ``tmux send-keys`` and timed until ``tmux capture-pane``
shows its effect, so the figure includes Textual's output, the terminal's
parsing and our polling of the pane (each capture costs a few ms): it errs on
the slow side. The headless phases time up to the frame Textual composes;
this one is what a person at the keyboard sees.

Measured per case (a list of finished tasks, or unfinished ones polled at full
cadence): cursor movement (``down`` until the detail pane names the next
task), sorting (``s`` until the table's sort label changes) and filter typing
(``/`` until the input shows, each character until the table title shows
the filter with it, then a backspace, which widens the filter and re-sorts).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SIZE = (200, 60)
DETAIL_ID = re.compile(r"│ Task {3,}(\S+)")
SORT = re.compile(r"sort: ([a-z]+ [▲▼]) ─")
TITLE = re.compile(r"Tasks \((\d+)(?: of \d+)?\)")
#: Typed into the filter, one character at a time, in each round.
FILTER_TEXT = "123"
#: The title after a backspace: the filter minus its last character.
WIDER = f"filter: {FILTER_TEXT[:-1]} "


class Pane:
    """One tmux session running the app; ``screen()`` is what it shows now."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.tmux = ["tmux", "-L", name]  # a private server: the user's tmux is left alone
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        command = f"env {exports} {sys.executable} {os.environ.get('BENCH_APP', '-m tui')}"
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)
        width, height = (str(v) for v in SIZE)
        place = ["-c", str(ROOT), "-x", width, "-y", height]
        subprocess.run([*self.tmux, "new-session", "-d", "-s", name, *place, command], check=True)

    def screen(self) -> str:
        done = subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return done.stdout

    def send(self, key: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, key], check=True)

    def wait(self, check: Callable[[str], bool], timeout: float = 60.0) -> str:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            text = self.screen()
            if check(text):
                return text
            time.sleep(0.002)
        raise TimeoutError(f"the pane never showed what was expected:\n{self.screen()}")

    def timed(self, key: str, check: Callable[[str], bool]) -> float:
        """Milliseconds from sending ``key`` to a screen that passes ``check``."""
        start = time.perf_counter()
        self.send(key)
        self.wait(check, timeout=10.0)
        return (time.perf_counter() - start) * 1000

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    found = pattern.search(text)
    return found.group(1) if found else None


def _prepare(folder: Path, url: str, kind: str, n: int) -> tuple[dict[str, str], int]:
    """Config and data folders for one case; returns the environment and the task count."""
    from tests.benchmarks.perf import KEY, make_big_store
    from tui.domain.tracked import TrackedTask
    from tui.services.store import DB_NAME, TaskStore

    env = {f"XDG_{k}_HOME": str(folder / k.lower()) for k in ("CONFIG", "DATA", "STATE")}
    config = folder / "config" / "musicmint-tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'[api]\nbase_url = "{url}"\napi_key = "{KEY}"\n[ui]\nbell = false\n', encoding="utf-8"
    )
    config.chmod(0o600)
    store_path = folder / "data" / "musicmint-tui" / DB_NAME
    if kind == "idle":
        make_big_store(store_path, n, unfinished_every=0)  # all finished: nothing to poll
        store = TaskStore(store_path)
        records = store.load().tasks
    else:  # unfinished: every one is polled every 5 s for the whole measurement
        store = TaskStore(store_path)
        records = [TrackedTask(f"term{i:06d}", float(i)) for i in range(n)]
    store.save(records)
    store.close()
    return env, len(records)


def _measure(pane: Pane, n: int, presses: int) -> dict[str, list[float]]:
    shown = pane.wait(lambda s: _first(TITLE, s) == str(n) and DETAIL_ID.search(s) is not None)
    times: dict[str, list[float]] = {"move": [], "sort": [], "filter": []}
    for i in range(presses):
        key, before = ("Down" if i % 20 < 10 else "Up"), _first(DETAIL_ID, shown)
        times["move"].append(
            pane.timed(key, lambda s, before=before: _first(DETAIL_ID, s) not in (before, None))
        )
        shown = pane.screen()
    for _ in range(max(2, presses // 5)):
        before = _first(SORT, pane.screen())
        times["sort"].append(
            pane.timed("s", lambda s, before=before: _first(SORT, s) not in (before, None))
        )
    for _ in range(max(1, presses // 10)):
        times["filter"].append(pane.timed("/", lambda s: "filter by ID" in s))
        for k in range(1, len(FILTER_TEXT) + 1):
            typed = FILTER_TEXT[:k]
            times["filter"].append(
                pane.timed(typed[-1], lambda s, typed=typed: f"filter: {typed} " in s)
            )
        # Deleting a character widens the filter: a full re-sort of the list.
        times["filter"].append(pane.timed("BSpace", lambda s: WIDER in s))
        pane.send("Escape")
        pane.wait(lambda s: "filter:" not in s and "filter by ID" not in s)
    return times


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def keys_in_terminal(url: str, cases: tuple[tuple[str, int], ...], presses: int) -> dict[str, Any]:
    """For each (kind, n) in ``cases``: p50/p99 ms per key kind, and over all keys."""
    if shutil.which("tmux") is None:
        raise RuntimeError("phase 10 needs tmux")
    results: dict[str, Any] = {}
    for kind, n in cases:
        with tempfile.TemporaryDirectory() as tmp:
            env, count = _prepare(Path(tmp), url, kind, n)
            pane = Pane(f"mm-bench-{os.getpid()}", env)
            try:
                times = _measure(pane, count, presses)
            finally:
                pane.close()
        everything = [t for values in times.values() for t in values]
        results[f"{kind} {n}"] = {
            "kind": kind,
            "tasks": count,
            **{
                f"{name}_p{q}_ms": _pct(values, q / 100)
                for name, values in times.items()
                for q in (50, 99)
            },
            "keys": len(everything),
            "times_ms": {name: [round(t, 1) for t in values] for name, values in times.items()},
            "p99_ms": _pct(everything, 0.99),
        }
    return results
