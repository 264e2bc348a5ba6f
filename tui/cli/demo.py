"""``--demo``: the dashboard against an in-process simulator with seeded tasks.

The demo keeps its task list (and any downloads) in a fresh temporary folder
that is deleted on exit, so it never touches the user's own files and always
starts the same way.
Tasks run at 0.6× the simulator's normal pace: they visibly move through every
state and finish within about a minute.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

from tui.core.config import Config, load_config
from tui.services.store import DB_NAME, TaskStore
from tui.simulator import DEFAULT_KEY, Simulator, SimulatorServer

DEMO_TIME_SCALE = 0.6
FOLDER_PREFIX = "musicmint-demo-"

#: (task id, plan overrides): one task in every state the dashboard can show.
DEMO_TASKS: tuple[tuple[str, dict[str, object]], ...] = (
    ("demo-two-clips", {"outcome": "completed", "expiries": ("week", "minutes"), "age": 90}),
    ("demo-never-expires", {"outcome": "completed", "expiries": ("never",), "age": 5400}),
    ("demo-expiring-soon", {"outcome": "completed", "expiries": ("minutes",), "age": 200}),
    ("demo-expired", {"outcome": "completed", "expiries": ("expired",), "age": 9 * 86400}),
    ("demo-partly-expired", {"outcome": "completed", "expiries": ("expired", "week"), "age": 600}),
    ("demo-failed", {"outcome": "failed", "age": 400}),
    (
        "demo-processing",
        {
            "queued_for": 2,
            "processing_for": 45,
            "age": 12,
            "outcome": "completed",
            "expiries": ("week", "never"),
        },
    ),
    ("demo-queuing", {"queued_for": 20, "processing_for": 25, "age": 0, "outcome": "completed"}),
    ("64f3a1b2c8d9e0f1a2b3c4d5", {"age": 0}),
    ("7a0c2e41d9b8f3a6c5e4d3b2", {"age": 0}),
    ("b19e7d44a0c3f2e1d6b5a498", {"age": 0}),
)


def seed(sim: Simulator) -> list[str]:
    for task_id, changes in DEMO_TASKS:
        scaled = {
            k: (v * DEMO_TIME_SCALE if k in ("queued_for", "processing_for") else v)
            for k, v in changes.items()
        }
        sim.book.seed(task_id, **scaled)
    return [task_id for task_id, _ in DEMO_TASKS]


def remove_stale_folders() -> None:
    """Earlier demos killed before they could clean up leave folders behind; a
    folder whose lock nobody holds belongs to no running demo."""
    from tui.core.lock import DataLock, FolderInUse

    for folder in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*"):
        try:
            with DataLock(folder):
                pass
        except (FolderInUse, OSError):
            continue
        shutil.rmtree(folder, ignore_errors=True)


def demo_simulator() -> Simulator:
    """The demo's simulator: its own key, the demo's pace, no tasks yet."""
    return Simulator(api_key=DEFAULT_KEY, time_scale=DEMO_TIME_SCALE)


def demo_config(config: Config, server: SimulatorServer, folder: Path) -> Config:
    """``config`` pointed at the demo's running simulator: every request the
    dashboard makes (polls, import, generate) goes there with its key."""
    # Demo downloads go to the temporary folder too: sample files have no
    # business in the user's Music folder.
    return dataclasses.replace(
        config,
        base_url=server.url,
        api_key=DEFAULT_KEY,
        download_dir=folder / "downloads",
        auto_download=False,
    )


def run_demo(extra_ids: list[str], interval: float | None = None) -> int:
    from tui.cli.launch import run_app

    remove_stale_folders()
    config = load_config(overrides={"polling.interval": interval})
    sim = demo_simulator()
    ids = seed(sim) + [i for i in extra_ids if i not in dict(DEMO_TASKS)]
    folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
    try:
        with SimulatorServer(sim) as server:
            pointed = demo_config(config, server, folder)
            return run_app(
                pointed,
                ids,
                demo=True,
                store=TaskStore(folder / DB_NAME),
                reload_config=lambda: pointed,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
