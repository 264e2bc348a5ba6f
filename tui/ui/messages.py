"""Messages that carry service events into the widget tree.

The services (no Textual) report through plain callbacks; the app applies
poll results to the tracker and posts what changed to the main screen as one
of these, so widgets are only ever touched from the UI's message loop and
data flows one way: client -> poller -> tracker -> messages -> widgets.
"""

from __future__ import annotations

from textual.message import Message

from tui.domain.tracked import TrackedTask
from tui.services.download_queue import DownloadDone
from tui.services.downloads import Progress
from tui.services.poller import LinkState
from tui.services.tracker import Change


class TaskChanged(Message):
    """The tracker applied an event to one record."""

    def __init__(self, change: Change) -> None:
        super().__init__()
        self.change = change


class LinkChanged(Message):
    def __init__(self, link: LinkState, previous: LinkState) -> None:
        super().__init__()
        self.link = link
        self.previous = previous


class TasksLoaded(Message):
    """The task file was read and merged: the table can be filled."""


class DownloadUpdate(Message):
    """A file's transfer progressed, finished or failed (see ``tui.services.downloads``)."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress


class DownloadFinished(Message):
    """A clip's download ended; ``record`` is set when the tracker noted the file."""

    def __init__(self, done: DownloadDone, record: TrackedTask | None) -> None:
        super().__init__()
        self.done = done
        self.record = record
