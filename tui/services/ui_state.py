"""What the dashboard looked like when it was last used: theme, sort, view.

Kept in ``ui.json`` next to the task database (the data folder, not the
config file: the app never rewrites a user's config, and this is state, not
settings). Read once at start, written whenever a choice changes. A missing,
unreadable or odd file means defaults: it is a convenience, and losing it
must never stop the dashboard.

The theme chosen in the palette wins over the config's ``[ui] theme`` only
while the config still says what it said when the choice was made: someone
who edits the config later meant it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tui.core.atomic import atomic_write
from tui.core.logs import log

FILE_NAME = "ui.json"
#: More than this is not a file we wrote.
MAX_BYTES = 4 * 1024 * 1024
#: Expiry warnings remembered at most (the oldest beyond it are forgotten).
MAX_WARNED = 20_000


@dataclass
class UiState:
    theme: str | None = None
    #: The config's theme when ``theme`` was chosen (see the module docstring).
    config_theme: str | None = None
    sort: str = "added"
    reverse: bool = False
    view: str = "all"
    #: Expiry warnings given: [task ID, clip key, stage] (see expiry_watch.py).
    warned: list[list[object]] = field(default_factory=list)

    def theme_for(self, config_theme: str) -> str | None:
        """The remembered theme, unless the config changed since it was chosen."""
        return self.theme if self.theme and self.config_theme == config_theme else None


def load(path: Path) -> UiState:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return UiState()
    except OSError as exc:
        log.warning("%s not read (%s): default view", path, exc.strerror or exc)
        return UiState()
    try:
        if len(raw) > MAX_BYTES:
            raise ValueError("too large")
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        log.warning("%s ignored (%s): default view", path, exc)
        return UiState()
    state = UiState()
    for name, kind in (("theme", str), ("config_theme", str), ("sort", str), ("view", str)):
        value = data.get(name)
        if isinstance(value, kind) and len(value) <= 100:
            setattr(state, name, value)
    if isinstance(data.get("reverse"), bool):
        state.reverse = data["reverse"]
    warned = data.get("warned")
    if isinstance(warned, list):
        state.warned = [
            [task_id, clip_key, stage]
            for task_id, clip_key, stage in (
                entry
                for entry in warned[:MAX_WARNED]
                if isinstance(entry, list) and len(entry) == 3
            )
            if isinstance(task_id, str)
            and isinstance(clip_key, str)
            and len(task_id) <= 200
            and len(clip_key) <= 200
            and stage in (1, 2)
            and not isinstance(stage, bool)
        ]
    return state


def save(path: Path, state: UiState) -> None:
    """Write ``state`` atomically (a crash leaves the old file or the new one)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(asdict(state), indent=1).encode())
    except OSError as exc:
        log.warning("%s not saved: %s", path, exc.strerror or exc)
