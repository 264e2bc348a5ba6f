"""The key footer, recomposed once per burst of binding changes.

Textual's ``Footer`` rebuilds all its key widgets after *every* bindings
update; focus moves, screen pushes and mounts at start-up send several in a
row, and each rebuild restyles a dozen widgets. This one coalesces them: one
rebuild after the burst, with the bindings as they are by then.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._rebuild_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True  # Footer's own flag: compose shows keys from now on
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        await self.recompose()
