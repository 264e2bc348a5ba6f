"""What a screen may use of the app that hosts it.

Screens reach the services through ``self.app``; typing that as this protocol
rather than as :class:`tui.ui.app.MusicMintApp` keeps screens from importing
the app module back (no import cycle, not even for type checking).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from textual.app import App

from tui.api import MusicMintClient
from tui.core.config import Config
from tui.core.logs import RecentErrors
from tui.domain.tracked import TrackedTask
from tui.services.download_queue import DownloadQueue
from tui.services.listening import Listening
from tui.services.poller import LinkState, Poller
from tui.services.tracker import Tracker
from tui.services.ui_state import UiState


class Host(Protocol):
    config: Config
    clock: Callable[[], float]
    tick_interval: float
    demo: bool
    link: LinkState
    tracker: Tracker
    poller: Poller
    client: MusicMintClient
    downloads: DownloadQueue
    recent_errors: RecentErrors
    ui_state: UiState
    listening: Listening

    @property
    def records(self) -> Mapping[str, TrackedTask]: ...

    @property
    def data_folder(self) -> Path: ...

    def track(self, task_ids: Iterable[str]) -> list[TrackedTask]: ...

    def track_submitted(
        self, task_id: str, request: Mapping[str, object], sent_at: float | None = None
    ) -> TrackedTask: ...

    def untrack(self, task_ids: Iterable[str]) -> list[TrackedTask]: ...

    def restore(self) -> list[TrackedTask]: ...

    def wake(self) -> None: ...

    def remember(self, **changes: object) -> None: ...


if TYPE_CHECKING:

    class HostApp(App[int], Host):
        """For type checkers: an App that is also a :class:`Host` (Protocol and
        App metaclasses cannot be combined at run time)."""

else:
    HostApp = App
