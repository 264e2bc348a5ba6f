"""Messages that carry poller events into the widget tree.

The poller (no Textual) hands plain events to a callback; the app wraps each
in :class:`PollerUpdate` and handles it on its own message queue, so widgets
are only ever touched from the UI's message loop.
"""

from __future__ import annotations

from textual.message import Message

from tui.downloads import Progress
from tui.poller import PollEvent


class PollerUpdate(Message):
    def __init__(self, event: PollEvent) -> None:
        super().__init__()
        self.event = event


class DownloadUpdate(Message):
    """A file's transfer progressed, finished or failed (see ``tui.downloads``)."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress
