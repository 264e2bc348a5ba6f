"""The key footer: the keys of the part that has focus, help and quit always.

As lazygit's, it follows focus: on the table it offers the task keys, in the
detail pane the clip keys (``]`` ``[`` ``i`` ``c``…), each key's place being
:attr:`tui.ui.keys.Key.footer`. ``?`` and ``q`` are docked at the right
(with the palette), so however narrow the terminal they never scroll away.

While the filter is typed, ``q`` and ``?`` are letters of it: the footer
says how the typing ends (enter keeps, esc clears) instead. Dialogs carry a
footer of their own keys.

It also recomposes once per burst of binding changes: Textual's ``Footer``
rebuilds all its key widgets after *every* bindings update; focus moves,
screen pushes and mounts at start-up send several in a row, and each rebuild
restyles a dozen widgets.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from tui.ui.keys import BY_ACTION

#: Widget IDs whose focus (or a descendant's) picks the keys shown.
PARTS = {"tasks": "table", "detail": "detail", "filter": "filter"}


class KeyFooter(Footer):
    DEFAULT_CSS = """
    KeyFooter #pinned {
        dock: right;
        width: auto;
        height: 1;
        background: $footer-background;
    }
    KeyFooter #pinned FooterKey.-command-palette {
        dock: none;
    }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._rebuild_pending = False

    def part(self) -> str:
        """Which part of the screen has focus, as :attr:`Key.footer` names them."""
        focused: Widget | None = self.screen.focused
        while focused is not None:
            if focused.id in PARTS:
                return PARTS[focused.id]
            focused = focused.parent if isinstance(focused.parent, Widget) else None
        return ""

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        part = self.part()
        if part == "filter":
            # Typing: q and ? are letters of the filter now; say what ends it.
            yield self._hint("enter", "Keep filter")
            yield self._hint("escape", "Clear filter", "esc")
            with HorizontalGroup(id="pinned"):
                yield from self._palette()
            return
        pinned: list[FooterKey] = []
        seen: set[str] = set()
        shown: list[FooterKey] = []
        # The key map is the dashboard's; a dialog's footer shows its own keys.
        keymap = {} if isinstance(self.screen, ModalScreen) else BY_ACTION
        for _, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.action in seen:  # "x,delete": one entry, the first key
                continue
            seen.add(binding.action)
            key = keymap.get(binding.action)
            if key is None:  # another widget's own binding (an Input's, a dialog's)
                if binding.show and not part:
                    yield self._key(binding, enabled, tooltip)
                continue
            if not key.shown_in(part):
                continue
            widget = self._key(binding, enabled, tooltip)
            (pinned if key.footer == "always" else shown).append(widget)
        palette = list(self._palette())
        # Keys that would be cut by the pinned group are left out whole: a
        # half-shown "5 Ex" helps nobody (help and the palette list them all).
        room = (self.size.width or 200) - sum(_width(w) for w in pinned + palette)
        for widget in shown:
            room -= _width(widget)
            if room < 0:
                break
            yield widget
        # One group docked at the right (docked siblings would overlap).
        with HorizontalGroup(id="pinned"):
            yield from pinned
            yield from palette

    def on_resize(self) -> None:
        if self._bindings_ready and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    def _key(self, binding, enabled: bool, tooltip: str) -> FooterKey:  # type: ignore[no-untyped-def]
        key = FooterKey(
            binding.key,
            self.app.get_key_display(binding),
            binding.description,
            binding.action,
            disabled=not enabled,
            tooltip=tooltip,
        )
        return _roomy(key)

    def _hint(self, key: str, description: str, display: str = "") -> FooterKey:
        return _roomy(FooterKey(key, display or key, description, ""))

    def _palette(self) -> Iterator[FooterKey]:
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return
        active = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if active is not None:
            _, binding, enabled, _tooltip = active
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                classes="-command-palette",
                disabled=not enabled,
                tooltip=binding.tooltip or binding.description,
            )

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


def _width(key: FooterKey) -> int:
    """Cells a key takes in the footer: " k " + "description " (Footer's padding)."""
    return len(key.key_display) + 2 + (len(key.description) + 1 if key.description else 0)


def _roomy(key: FooterKey) -> FooterKey:
    """The footer's usual (not compact) look, set before mounting. Footer
    data-binds it instead, and each key's watcher then restyles it: ~70 ms
    per footer rebuild, which happens on every focus change."""
    key.set_reactive(FooterKey.compact, False)
    return key
