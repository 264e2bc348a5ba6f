"""What every part of the main screen's actions shares: the screen, how to
find the selected task and clip, the app's services, and one way to say
something (server text is never markup).

:class:`~tui.ui.clip_actions.ClipActions`, :class:`~tui.ui.make_actions.MakeActions`
and :class:`~tui.ui.playback.Playback` are such parts: the screen binds the
keys and delegates to them; they are told how to find the selection rather
than importing the screen, so there is no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen

from tui.api.models import Clip
from tui.domain.tracked import TrackedTask
from tui.ui import wording
from tui.ui.host import HostApp


class ScreenPart:
    def __init__(
        self,
        screen: Screen[None],
        highlighted: Callable[[], TrackedTask | None],
        clip_index: Callable[[TrackedTask], int],
    ) -> None:
        self._screen = screen
        self._highlighted = highlighted
        self._clip_index = clip_index

    @property
    def _app(self) -> HostApp:
        return self._screen.app  # type: ignore[return-value]

    def _say(self, message: str, **kwargs: object) -> None:
        self._screen.notify(message, markup=False, **kwargs)  # type: ignore[arg-type]

    def _selected_clip(self) -> tuple[TrackedTask, int, Clip] | None:
        """The selected task, its selected clip and that clip's index; or say
        why there is none (no task, no clips yet). Shared by every clip key."""
        record = self._highlighted()
        if record is None:
            self._say("No task selected.")
            return None
        clips = record.task.results if record.task else ()
        if not clips:
            self._say(wording.no_clips(record))
            return None
        index = min(self._clip_index(record), len(clips) - 1)
        return record, index, clips[index]
